import type { Delivery, EventContext, Sender } from 'rhea';
import { amqpMessage, type AmqpErrorFields } from './amqpCodec';
import { log } from './log';
import type { SessionOwner } from './messageSession';
import type { MessageLock, QueueEntity, ReceiveMode, Settlement } from './queueEntity';

/** Link state rhea keeps but does not type; read here only. */
interface SenderInternals {
  credit: number;
  delivery_count: number;
  session: { outgoing: { available(): number } };
  _draining: boolean;
  _drained: boolean;
  _get_drain(): boolean;
}

interface ModifiedState {
  delivery_failed?: boolean;
  undeliverable_here?: boolean;
  message_annotations?: Record<string, unknown>;
}

interface RejectedState {
  error?: AmqpErrorFields;
}

const DEAD_LETTER_CONDITION = 'com.microsoft:dead-letter';

/**
 * A client's receiver link, seen from the queue: credit decides how many messages it may take, and its
 * dispositions settle them (accepted = complete, modified = abandon or defer, rejected = dead-letter,
 * released = back to the queue without counting a delivery). On a session receiver, it holds the session's lock.
 */
export class DeliveryLink implements SessionOwner {
  private handedToRhea = 0;
  private readonly locks = new WeakMap<Delivery, string>();

  constructor(
    private readonly sender: Sender,
    queue: QueueEntity,
    readonly receiveMode: ReceiveMode,
  ) {
    // Drained credit is used up: without counting it here, `capacity()` would go on offering it.
    answerDrainWithoutCredit(sender, (credit) => (this.handedToRhea += credit));
    sender.on('sendable', () => queue.pump());
    sender.on('sender_draining', () => {
      queue.pump();
      sender.set_drained(true);
    });
    sender.on('accepted', (context: EventContext) => this.settle(context, (lock) => queue.complete(lock)));
    sender.on('released', (context: EventContext) => this.settle(context, (lock) => queue.release(lock)));
    sender.on('modified', (context: EventContext) =>
      this.settle(context, (lock) => {
        const state = (context.delivery?.remote_state ?? {}) as ModifiedState;
        return state.undeliverable_here
          ? queue.defer(lock, state.message_annotations)
          : queue.abandon(lock, state.message_annotations);
      }),
    );
    sender.on('rejected', (context: EventContext) =>
      this.settle(context, (lock) => {
        const error = ((context.delivery?.remote_state ?? {}) as RejectedState).error;
        const info = { ...(error?.info ?? {}) };
        const reason = info.DeadLetterReason;
        const description = info.DeadLetterErrorDescription;
        delete info.DeadLetterReason;
        delete info.DeadLetterErrorDescription;
        if (error && error.condition !== DEAD_LETTER_CONDITION) {
          log(`rejected with ${error.condition}; dead-lettering as the service does`);
        }
        return queue.deadLetter(lock, {
          reason: typeof reason === 'string' ? reason : undefined,
          description: typeof description === 'string' ? description : undefined,
          propertiesToModify: info,
        });
      }),
    );
  }

  /**
   * Credit the client granted that no handed-over message has used yet. rhea only counts a transfer
   * against credit once it is written, so messages handed over in this tick are subtracted here.
   */
  capacity(): number {
    if (!this.sender.is_open()) return 0;
    const internals = this.sender as unknown as SenderInternals;
    if (internals.session.outgoing.available() <= 0) return 0;
    return internals.credit + internals.delivery_count - this.handedToRhea;
  }

  deliver(encoded: Buffer, lock: MessageLock | undefined, sequenceNumber: number): void {
    this.handedToRhea++;
    const tag = lock ? lock.token.deliveryTag : sequenceTag(sequenceNumber);
    const delivery = this.sender.send(encoded, tag, 0);
    if (lock) this.locks.set(delivery, lock.token.id);
  }

  /** The session lock expired: the service detaches the receiver with the error. */
  loseSession(condition: string, description: string): void {
    if (this.sender.is_open()) this.sender.close({ condition, description });
  }

  private settle(context: EventContext, apply: (lockTokenId: string) => Settlement): void {
    const delivery = context.delivery;
    if (!delivery) return;
    const lockTokenId = this.locks.get(delivery);
    const result = lockTokenId ? apply(lockTokenId) : undefined;
    const outcome =
      result && !result.ok
        ? amqpMessage.rejected({ error: result }).described()
        : echoOutcome(delivery.remote_state);
    delivery.update(true, outcome);
    // Once the sender settles, the delivery is over (the client sends nothing more), but rhea frees a session's
    // delivery slots only when both ends have settled: without this, a session stalls after 2,048 messages.
    (delivery as { remote_settled: boolean }).remote_settled = true;
  }
}

/** The service answers a settlement with the outcome it applied, never with an error when it worked. */
function echoOutcome(state: unknown): unknown {
  const name = (state as { constructor?: { composite_type?: string } } | undefined)?.constructor
    ?.composite_type;
  if (name === 'modified') {
    const modified = state as ModifiedState;
    return amqpMessage
      .modified({
        delivery_failed: modified.delivery_failed,
        undeliverable_here: modified.undeliverable_here,
      })
      .described();
  }
  if (name === 'rejected') return amqpMessage.rejected({}).described();
  if (name === 'released') return amqpMessage.released().described();
  return amqpMessage.accepted().described();
}

function sequenceTag(sequenceNumber: number): Buffer {
  const tag = Buffer.alloc(8);
  tag.writeBigUInt64BE(BigInt(sequenceNumber));
  return tag;
}

/**
 * rhea answers a drain request only while credit is left. When the last message used the last credit the
 * client still waits for the drain reply (the SDK's receiveMessages does), so answer regardless.
 */
function answerDrainWithoutCredit(sender: Sender, onDrained: (credit: number) => void): void {
  const internals = sender as unknown as SenderInternals;
  internals._get_drain = function (this: SenderInternals): boolean {
    if (!this._draining || !this._drained) return false;
    onDrained(this.credit);
    this.delivery_count += this.credit;
    this.credit = 0;
    this._draining = false;
    return true;
  };
}
