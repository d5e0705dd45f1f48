import { ActiveMessages } from './activeMessages';
import type { QueueConsumer } from './queueEntity';

export const SESSION_LOCK_LOST_CONDITION = 'com.microsoft:session-lock-lost';
export const SESSION_LOCK_LOST_DESCRIPTION =
  'The session lock has expired on the MessageSession. Accept a new MessageSession.';

/** A session receiver link, as its session sees it: it takes messages, and is detached when the lock is lost. */
export interface SessionOwner extends QueueConsumer {
  loseSession(condition: string, description: string): void;
}

interface SessionMessage {
  readonly sequenceNumber: number;
}

/**
 * One session of a queue that requires sessions: its messages waiting in sequence order, the one receiver that
 * holds its lock, the messages locked under that lock, and its state. Message locks in a session are the session
 * lock: they expire, and are renewed, with it.
 */
export class MessageSession<M extends SessionMessage> {
  readonly active: ActiveMessages<M>;
  /** Messages delivered (or received by sequence number) under the current lock and not yet settled. */
  readonly locked = new Set<M>();
  owner: SessionOwner | undefined;
  lockedUntil = 0;
  state: Buffer | undefined;
  /** The session's messages in the queue, in any state: a session is forgotten when it has none and no state. */
  messageCount = 0;

  constructor(
    readonly id: string,
    isActive: (message: M) => boolean,
  ) {
    this.active = new ActiveMessages(isActive);
  }

  get isIdle(): boolean {
    return this.messageCount === 0 && this.owner === undefined && this.state === undefined;
  }

  firstActive(): M | undefined {
    for (const message of this.active) return message;
    return undefined;
  }
}

/** .NET ticks (100 ns since 0001-01-01), as the service sends `com.microsoft:locked-until-utc`: an 8-byte long. */
export function toDotNetTicks(epochMs: number): Buffer {
  const ticks = (BigInt(Math.round(epochMs)) + 62_135_596_800_000n) * 10_000n;
  const bytes = Buffer.alloc(8);
  bytes.writeBigInt64BE(ticks);
  return bytes;
}
