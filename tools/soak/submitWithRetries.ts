import { setTimeout as sleep } from 'node:timers/promises';
import type { SeededRandom } from './seededRandom';

/**
 * One HTTP try, as the client saw it. `answered`: the app said something (any status). `notDelivered`: the
 * connection was refused, so the app never saw the request. `indeterminate`: the request may or may not have been
 * processed (reset mid-request, timeout) — the case idempotency keys exist for.
 */
export type SubmitTry = (
  | { readonly kind: 'answered'; readonly status: number; readonly body: unknown }
  | { readonly kind: 'notDelivered' | 'indeterminate'; readonly error: string }
) & {
  /** When the try was sent and when it ended (wall clock); absent from tries made up by tests. */
  readonly sentAt?: number;
  readonly endedAt?: number;
};

export interface SubmitPolicy {
  /** An impatient client stops after its first try, whatever it got. */
  patient: boolean;
  random: SeededRandom;
  requestTimeoutMs?: number;
  maxTries?: number;
}

const retryableStatuses = new Set([408, 429, 500, 502, 503, 504]);
// The app asks for 5 s (Retry-After); a soak run honours it up to this much, to stay short.
const maxRetryAfterMs = 2_000;

/**
 * `POST /api/jobs` the way a well-behaved client does it: the same body (and so the same idempotency keys) on every
 * try, retried on refusals and connection errors with backoff, never on an answer that says the request is wrong.
 * Returns every try, oldest first; the last is the final answer.
 */
export function submitWithRetries(
  baseUrl: string,
  body: unknown,
  policy: SubmitPolicy,
): Promise<SubmitTry[]> {
  return postWithRetries(`${baseUrl}/api/jobs`, body, policy);
}

/** `POST /api/jobs/{jobId}/cancel` the same way: retried on refusals and connection errors, never on an answer. */
export function cancelWithRetries(
  baseUrl: string,
  jobId: string,
  policy: SubmitPolicy,
): Promise<SubmitTry[]> {
  return postWithRetries(`${baseUrl}/api/jobs/${jobId}/cancel`, undefined, policy);
}

async function postWithRetries(
  url: string,
  body: unknown,
  { patient, random, requestTimeoutMs = 30_000, maxTries = 10 }: SubmitPolicy,
): Promise<SubmitTry[]> {
  const tries: SubmitTry[] = [];
  for (let attempt = 1; ; attempt += 1) {
    const { result, retryAfterMs } = await tryOnce(url, body, requestTimeoutMs);
    tries.push(result);
    const retryable = result.kind !== 'answered' || retryableStatuses.has(result.status);
    if (!patient || !retryable || attempt >= maxTries) return tries;
    const backoffMs = Math.min(2_000, 100 * 2 ** (attempt - 1));
    await sleep(Math.min(retryAfterMs ?? backoffMs, maxRetryAfterMs) * (0.5 + random.next()));
  }
}

async function tryOnce(
  url: string,
  body: unknown,
  timeoutMs: number,
): Promise<{ result: SubmitTry; retryAfterMs?: number }> {
  const sentAt = Date.now();
  try {
    const response = await fetch(url, {
      method: 'POST',
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    const retryAfter = Number(response.headers.get('retry-after'));
    return {
      result: {
        kind: 'answered',
        status: response.status,
        body: parseJson(text),
        sentAt,
        endedAt: Date.now(),
      },
      retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
    };
  } catch (error) {
    const code = errorCode(error);
    return {
      result: {
        kind: code === 'ECONNREFUSED' ? 'notDelivered' : 'indeterminate',
        error: describeError(error),
        sentAt,
        endedAt: Date.now(),
      },
    };
  }
}

/** The socket-level reason when fetch has one (`UND_ERR_SOCKET: other side closed`), else fetch's own message. */
function describeError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.message) return `${cause.code ?? 'error'}: ${cause.message}`;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** fetch wraps the socket's error: `cause.code`, or for a multi-address connect, the first of `cause.errors`. */
function errorCode(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: string; errors?: { code?: string }[] } }).cause;
  return cause?.code ?? cause?.errors?.[0]?.code;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
