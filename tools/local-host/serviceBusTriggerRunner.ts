import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { InvocationContext } from '@azure/functions';
import type { ServiceBusClient, ServiceBusReceivedMessage, ServiceBusReceiver } from '@azure/service-bus';
import type { ServiceBusQueueFunctionDefinition } from '../../src/functions/functionTable';
import type { SdkBindingInput } from '../../src/functions/processJob';
import { isoTimestamp } from '../../src/jobs/model/isoTimestamp';
import type { Logger } from '../../src/jobs/support/logger';
import type { ServiceBusMessageActions } from '../../src/queue/serviceBusSettlers';
import type { MessageConsumer } from '../../src/runtime';
import { diagnosticIdProperty } from '../../src/queue/serviceBusJobMessage';
import type { ServiceBusTriggerSettings } from './hostJsonSettings';
import { invocationTraceContext } from './invocationTraceContext';

/**
 * The local stand-in for the Functions host's Service Bus trigger: receives in peek-lock and invokes the processJob
 * function the way the host would in its settlement mode. It must not be more forgiving than the host: in `host`
 * mode a return completes and a throw abandons; in `explicit` mode the function settles through actions that stop
 * working when the invocation returns, and an unsettled message waits for its lock to expire.
 */
export class ServiceBusTriggerRunner implements MessageConsumer {
  private readonly receiver: ServiceBusReceiver;
  private subscription: { close(): Promise<void> } | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  /** One for every invocation: function logs go to the runner's logger. */
  private readonly logHandler = (level: string, ...args: unknown[]): void =>
    this.logger.debug('Function log', { level, message: args.map(String).join(' ') });

  constructor(
    client: ServiceBusClient,
    queueName: string,
    private readonly definition: ServiceBusQueueFunctionDefinition,
    private readonly settings: ServiceBusTriggerSettings,
    private readonly logger: Logger,
  ) {
    this.receiver = client.createReceiver(queueName, {
      receiveMode: 'peekLock',
      maxAutoLockRenewalDurationInMs: settings.maxAutoLockRenewalMs,
      // The host hands the worker the raw body; the worker decodes it (see `asWorkerDecodes`).
      skipParsingBodyAsJson: true,
    });
  }

  start(): void {
    this.subscription = this.receiver.subscribe(
      {
        processMessage: (message) => this.track(this.invoke(message)),
        processError: async ({ error, errorSource }) => {
          this.logger.warn('Service Bus receive error', { errorSource, error: String(error) });
        },
      },
      { autoCompleteMessages: false, maxConcurrentCalls: this.settings.maxConcurrentCalls },
    );
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  async stopProcessing(timeoutMs: number): Promise<boolean> {
    await this.subscription?.close();
    this.subscription = undefined;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    try {
      return await Promise.race([Promise.all(this.inFlight).then(() => true as const), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes the receiver; the client is its creator's to close. */
  async close(): Promise<void> {
    await this.subscription?.close();
    await this.receiver.close();
  }

  private async track(invocation: Promise<void>): Promise<void> {
    this.inFlight.add(invocation);
    try {
      await invocation;
    } finally {
      this.inFlight.delete(invocation);
    }
  }

  private async invoke(message: ServiceBusReceivedMessage): Promise<void> {
    const context = new InvocationContext({
      invocationId: randomUUID(),
      functionName: this.definition.name,
      triggerMetadata: triggerMetadataOf(message),
      traceContext: invocationTraceContext(message.applicationProperties?.[diagnosticIdProperty])
        .traceContext,
      logHandler: this.logHandler,
    });
    if (this.definition.sdkBinding) await this.invokeExplicit(message, context);
    else await this.invokeHostSettled(message, context);
  }

  private async invokeHostSettled(
    message: ServiceBusReceivedMessage,
    context: InvocationContext,
  ): Promise<void> {
    try {
      await this.definition.handler(asWorkerDecodes(message.body), context);
    } catch (error) {
      this.logger.debug('Function threw; abandoning as the host does', {
        messageId: String(message.messageId),
        error: String(error),
      });
      await this.receiver
        .abandonMessage(message)
        .catch((settleError: unknown) => this.settleFailed(message, settleError));
      return;
    }
    await this.receiver
      .completeMessage(message)
      .catch((settleError: unknown) => this.settleFailed(message, settleError));
  }

  private async invokeExplicit(
    message: ServiceBusReceivedMessage,
    context: InvocationContext,
  ): Promise<void> {
    let open = true;
    const receiver = this.receiver;
    const whileOpen =
      <A extends unknown[]>(name: string, action: (...args: A) => Promise<void>) =>
      async (...args: A): Promise<void> => {
        if (!open)
          throw new Error(`${name} was called after the invocation returned; the host refuses that.`);
        await action(...args);
      };
    const actions: ServiceBusMessageActions<ServiceBusReceivedMessage> & Record<string, unknown> = {
      complete: whileOpen('complete', (m) => receiver.completeMessage(m)),
      abandon: whileOpen('abandon', (m, properties) => receiver.abandonMessage(m, properties as never)),
      deadletter: whileOpen('deadletter', (m, properties, reason, description) =>
        receiver.deadLetterMessage(m, {
          ...(properties as object),
          deadLetterReason: reason ?? '',
          deadLetterErrorDescription: description ?? '',
        }),
      ),
      defer: whileOpen('defer', (m: ServiceBusReceivedMessage) => receiver.deferMessage(m)),
      renewMessageLock: whileOpen('renewMessageLock', async (m: ServiceBusReceivedMessage) => {
        await receiver.renewMessageLock(m);
      }),
    };
    const input: SdkBindingInput<ServiceBusReceivedMessage & { body: unknown }> = {
      messages: [message],
      actions,
    };
    try {
      await this.definition.handler(input, context);
    } catch (error) {
      this.logger.warn('Function threw in explicit settlement; the message waits for its lock to expire', {
        messageId: String(message.messageId),
        error: String(error),
      });
    } finally {
      open = false;
    }
  }

  private settleFailed(message: ServiceBusReceivedMessage, error: unknown): void {
    this.logger.warn('Settling a message failed', {
      messageId: String(message.messageId),
      error: String(error),
    });
  }
}

/** The GA binding's body: JSON parsed when it parses, else text, and bytes only when they are not UTF-8. */
function asWorkerDecodes(body: unknown): unknown {
  if (!Buffer.isBuffer(body) || !isUtf8(body)) return body;
  const text = body.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The metadata the host sends, camel-cased as the worker does; delivery count in the .NET convention (from 1). */
function triggerMetadataOf(message: ServiceBusReceivedMessage): Record<string, unknown> {
  return {
    messageId: message.messageId,
    deliveryCount: (message.deliveryCount ?? 0) + 1,
    enqueuedTimeUtc: optionalIsoTimestamp(message.enqueuedTimeUtc),
    expiresAtUtc: optionalIsoTimestamp(message.expiresAtUtc),
    lockedUntilUtc: optionalIsoTimestamp(message.lockedUntilUtc),
    lockToken: message.lockToken,
    sequenceNumber: message.sequenceNumber && decimalText(message.sequenceNumber),
    correlationId: message.correlationId,
    contentType: message.contentType,
    subject: message.subject,
    label: message.subject,
    applicationProperties: message.applicationProperties ?? {},
    userProperties: message.applicationProperties ?? {},
  };
}

/** `Long.toString()`, without its long division for the numbers a queue reaches (below 2^53). */
function decimalText(value: NonNullable<ServiceBusReceivedMessage['sequenceNumber']>): string {
  const asNumber = value.toNumber();
  return Number.isSafeInteger(asNumber) ? String(asNumber) : value.toString();
}

function optionalIsoTimestamp(date: Date | undefined): string | undefined {
  return date && isoTimestamp(date);
}
