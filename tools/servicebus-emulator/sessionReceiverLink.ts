import type { Sender } from 'rhea';
import { amqpTypes } from './amqpCodec';
import { DeliveryLink } from './deliveryLink';
import { log } from './log';
import { toDotNetTicks } from './messageSession';
import type { QueueEntity, ReceiveMode } from './queueEntity';
import { refuse } from './refuseLink';

const SESSION_FILTER = 'com.microsoft:session-filter';
const LOCKED_UNTIL_UTC = 'com.microsoft:locked-until-utc';
/** The link property in which a client says how long the service may take to answer its attach. */
const TIMEOUT = 'com.microsoft:timeout';
/** How long the service holds an accept-next-session attach when the client does not say ("00:01:05"). */
export const ACCEPT_NEXT_SESSION_TIMEOUT_MS = 65_000;

/** A session receiver's request: a named session, or (undefined) the next available one. */
export interface SessionRequest {
  sessionId: string | undefined;
}

export interface SessionReceiverOptions {
  /** How long an accept-next-session attach waits for a session when the client does not say. */
  acceptNextSessionTimeoutMs: number;
}

/** Link fields rhea keeps but does not type, set here before the attach goes out. */
interface SenderInternals {
  local: { attach: { properties?: Record<string, unknown> } };
  state: { local_open: boolean; open_requests: number };
}

/**
 * The session a receiver link asks for in its source's `com.microsoft:session-filter`: a session id, or null
 * for the next available session (the JavaScript SDK's `acceptNextSession`, Python's `NEXT_AVAILABLE_SESSION`).
 * Undefined when the link has no session filter.
 */
export function requestedSession(sender: Sender): SessionRequest | undefined {
  const filter = (sender.source as { filter?: Record<string, unknown> | null } | undefined)?.filter;
  if (!filter || !(SESSION_FILTER in filter)) return undefined;
  const value = filter[SESSION_FILTER];
  if (value === null || value === undefined) return { sessionId: undefined };
  if (typeof value === 'string') return { sessionId: value };
  if (Buffer.isBuffer(value)) return { sessionId: value.toString('utf8') };
  // A described filter value (a client may send one): the session id is its value.
  const described = (value as { value?: unknown }).value;
  return { sessionId: typeof described === 'string' ? described : undefined };
}

/**
 * Serves a receiver link on a queue that requires sessions, or one with a session filter, as the service does:
 * a named session is locked at once, or refused with `com.microsoft:session-cannot-be-locked` while another
 * receiver holds it; the next available session is the unlocked one with the oldest waiting message, and when
 * there is none the attach is answered only once one appears, or, after the client's `com.microsoft:timeout`
 * (else `acceptNextSessionTimeoutMs`), refused with `com.microsoft:timeout`. The attach that grants a session
 * names it in the source's session filter and its lock's end in `com.microsoft:locked-until-utc`.
 * Returns what to do when the link closes: release the session's lock.
 */
export function attachSessionReceiver(
  sender: Sender,
  queue: QueueEntity,
  request: SessionRequest | undefined,
  receiveMode: ReceiveMode,
  options: SessionReceiverOptions,
): () => void {
  const nothing = () => undefined;
  if (!queue.requiresSession) {
    refuse(
      sender,
      'amqp:not-allowed',
      'A sessionful message receiver cannot be created on an entity that does not require sessions. Ensure RequiresSession is set to true when creating a Queue or Subscription to enable sessionful behavior.',
    );
    return nothing;
  }
  if (!request) {
    refuse(
      sender,
      'amqp:not-allowed',
      'It is not possible for an entity that requires sessions to create a non-sessionful message receiver.',
    );
    return nothing;
  }

  const link = new DeliveryLink(sender, queue, receiveMode);
  let session: ReturnType<QueueEntity['acceptSession']>;
  let stopWaiting = nothing;
  const granted = (accepted: NonNullable<typeof session>) => {
    session = accepted;
    describeSession(sender, accepted);
  };

  if (request.sessionId !== undefined) {
    const accepted = queue.acceptSession(request.sessionId, link);
    if (!accepted) {
      refuse(
        sender,
        'com.microsoft:session-cannot-be-locked',
        `The requested session '${request.sessionId}' cannot be accepted. It may be locked by another receiver.`,
      );
      return nothing;
    }
    granted(accepted);
  } else {
    const accepted = queue.acceptNextSession(link);
    if (accepted) {
      granted(accepted);
    } else {
      holdAttach(sender);
      const timeoutMs = requestedTimeout(sender) ?? options.acceptNextSessionTimeoutMs;
      const timer = setTimeout(() => {
        stopWaiting();
        sender.open();
        refuse(
          sender,
          'com.microsoft:timeout',
          `The operation did not complete within the allotted timeout of ${timeSpan(timeoutMs)}: no session with messages became available.`,
        );
      }, timeoutMs);
      const cancel = queue.waitForSession(link, (next) => {
        clearTimeout(timer);
        granted(next);
        sender.open();
      });
      stopWaiting = () => {
        clearTimeout(timer);
        cancel();
      };
    }
  }
  return () => {
    stopWaiting();
    if (session) queue.releaseSession(session, link);
  };
}

function describeSession(sender: Sender, session: { id: string; lockedUntil: number }): void {
  sender.set_source({ address: sender.source?.address, filter: { [SESSION_FILTER]: session.id } });
  (sender as unknown as SenderInternals).local.attach.properties = {
    [LOCKED_UNTIL_UTC]: amqpTypes.wrap_long(toDotNetTicks(session.lockedUntil)),
  };
  log(`session '${session.id}' of ${sender.source?.address} locked by link ${sender.name}`);
}

/**
 * rhea opens a link before it tells the application of the attach; undone here, so that no attach goes out until
 * `sender.open()` (the service answers an accept-next-session attach only when it has a session to give).
 */
function holdAttach(sender: Sender): void {
  const state = (sender as unknown as SenderInternals).state;
  if (state.local_open && state.open_requests > 0) {
    state.local_open = false;
    state.open_requests--;
  }
}

function requestedTimeout(sender: Sender): number | undefined {
  const value = (sender.properties as Record<string, unknown> | undefined)?.[TIMEOUT];
  if (typeof value === 'number' && value > 0) return value;
  if (Buffer.isBuffer(value) && value.length === 8) return Number(value.readBigUInt64BE());
  return undefined;
}

/** Milliseconds as .NET prints a TimeSpan (00:01:05), as the service words its timeouts. */
function timeSpan(ms: number): string {
  const seconds = Math.round(ms / 1000);
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${pad(Math.floor(seconds / 3600))}:${pad(Math.floor(seconds / 60) % 60)}:${pad(seconds % 60)}`;
}
