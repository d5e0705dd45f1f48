/** The time budget of one Service Bus call, retries included, unless the constructor is given another. */
export const defaultServiceBusCallTimeoutMs = 10_000;

/** Service Bus did not answer one call within its time budget. */
export class UnansweredCallError extends Error {
  constructor(readonly budgetMs: number) {
    super(`Service Bus did not answer within ${budgetMs} ms.`);
    this.name = 'UnansweredCallError';
  }
}

/**
 * Runs one Service Bus call within `budgetMs`, or rejects with {@link UnansweredCallError}. The SDK is given the
 * signal so that it stops retrying; the race also bounds what takes no signal (settlement, closing a link) or
 * waits without watching it, leaving the SDK to give up that call on its own timeout.
 */
export async function withinBudget<T>(
  budgetMs: number,
  call: (options: { abortSignal: AbortSignal }) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      // Rejected before the abort, so the race settles with this error rather than the SDK's AbortError.
      const unanswered = new UnansweredCallError(budgetMs);
      reject(unanswered);
      controller.abort(unanswered);
    }, budgetMs);
  });
  try {
    return await Promise.race([call({ abortSignal: controller.signal }), expired]);
  } finally {
    clearTimeout(timer);
  }
}
