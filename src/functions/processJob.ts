import type { InvocationContext } from '@azure/functions';
import type { ReceivedJobMessage } from '../jobs/receivedJobMessage';
import { settle } from '../jobs/settlement';
import type { ServiceBusMessageActions } from '../queue/serviceBusSettlers';
import { attemptCycleProperty, diagnosticIdProperty, recordEtagProperty } from '../jobs/outgoingJobMessage';
import { explicitModeSettler, hostModeSettler } from '../queue/serviceBusSettlers';
import type { JobsRuntime } from '../runtime';

/** A received message as the SDK-type binding hands it over (`ServiceBusReceivedMessage`, JS SDK conventions). */
export interface SdkBoundMessage {
  body: unknown;
  messageId?: string | number | unknown;
  /** The JS SDK counts from 0. */
  deliveryCount?: number;
  enqueuedTimeUtc?: Date;
  applicationProperties?: Record<string, unknown>;
}

export interface SdkBindingInput<TMessage extends SdkBoundMessage = SdkBoundMessage> {
  messages: TMessage | TMessage[];
  actions: ServiceBusMessageActions<TMessage>;
}

/** `host` settlement: the GA trigger; the host completes on return and abandons on a thrown error. */
export function createProcessJobHostSettled({ dispatcher }: Pick<JobsRuntime, 'dispatcher'>) {
  return async (body: unknown, context: InvocationContext): Promise<void> => {
    const settlement = await dispatcher.dispatch(fromHostTrigger(body, context.triggerMetadata ?? {}));
    await settle(settlement, hostModeSettler);
  };
}

/** `explicit` settlement: the SDK-type binding; every message is completed, abandoned or dead-lettered by us. */
export function createProcessJobExplicitlySettled({ dispatcher }: Pick<JobsRuntime, 'dispatcher'>) {
  return async ({ messages, actions }: SdkBindingInput): Promise<void> => {
    for (const message of Array.isArray(messages) ? messages : [messages]) {
      const settlement = await dispatcher.dispatch(fromSdkMessage(message));
      await settle(settlement, explicitModeSettler(actions, message));
    }
  };
}

/** The host's trigger metadata already counts deliveries from 1 (.NET convention). */
export function fromHostTrigger(body: unknown, metadata: Record<string, unknown>): ReceivedJobMessage {
  const properties = metadata.applicationProperties;
  return {
    body,
    messageId: optionalString(metadata.messageId),
    deliveryCount: positiveOr(Number(metadata.deliveryCount), 1),
    enqueuedTime: optionalDate(metadata.enqueuedTimeUtc),
    recordEtag: applicationProperty(properties, recordEtagProperty),
    cycle: attemptCycleOf(properties),
    traceParent: applicationProperty(properties, diagnosticIdProperty),
  };
}

export function fromSdkMessage(message: SdkBoundMessage): ReceivedJobMessage {
  const properties = message.applicationProperties;
  return {
    body: message.body,
    messageId: optionalString(message.messageId),
    deliveryCount: positiveOr((message.deliveryCount ?? 0) + 1, 1),
    enqueuedTime: optionalDate(message.enqueuedTimeUtc),
    recordEtag: applicationProperty(properties, recordEtagProperty),
    cycle: attemptCycleOf(properties),
    traceParent: applicationProperty(properties, diagnosticIdProperty),
  };
}

// Read field by field rather than spread from an object of its own: this runs for every message received.
function applicationProperty(properties: unknown, name: string): string | undefined {
  if (typeof properties !== 'object' || properties === null) return undefined;
  return optionalString((properties as Record<string, unknown>)[name]);
}

function attemptCycleOf(properties: unknown): number | undefined {
  const cycle = Number(applicationProperty(properties, attemptCycleProperty));
  return Number.isInteger(cycle) && cycle >= 1 ? cycle : undefined;
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}

function optionalDate(value: unknown): Date | undefined {
  if (!(value instanceof Date) && typeof value !== 'string') return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function positiveOr(value: number, fallback: number): number {
  return Number.isFinite(value) && value >= 1 ? Math.floor(value) : fallback;
}
