import type { DeadLetterReason } from '../model/deadLetterReason';

/** The dispatcher's single decision about one received message. Retries are already scheduled when it says so. */
export type Settlement =
  | { kind: 'complete' }
  | { kind: 'abandon'; description: string }
  | { kind: 'deadLetter'; reason: DeadLetterReason; description: string };

/** How a transport carries out a settlement for one message. */
export interface MessageSettler {
  complete(): Promise<void>;
  abandon(description: string): Promise<void>;
  deadLetter(reason: DeadLetterReason, description: string): Promise<void>;
}

export async function settle(settlement: Settlement, settler: MessageSettler): Promise<void> {
  switch (settlement.kind) {
    case 'complete':
      return settler.complete();
    case 'abandon':
      return settler.abandon(settlement.description);
    case 'deadLetter':
      return settler.deadLetter(settlement.reason, settlement.description);
  }
}
