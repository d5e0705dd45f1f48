import type {
  BulkReplayResult,
  DeadLetterFilter,
  DeadLetterListQuery,
  DeadLetterListing,
  DiscardResult,
  ReplayOptions,
  ReplayResult,
} from '../../src/jobs/deadLetterService';
import type { FieldError } from '../../src/jobs/errors';
import type { DeadLetterOperations } from './deadLetterOperations';
import { formatFieldErrors } from './formatDeadLetters';

/** An answer the app gave that is not a success; the message is the problem document's, field by field. */
export class ApiError extends Error {}

/**
 * The dead-letter operations of a running app, over its HTTP API: in embedded mode the in-memory sub-queue lives
 * inside that process, so nothing else can reach it.
 */
export function httpDeadLetterOperations(baseUrl: string): DeadLetterOperations {
  const api = `${baseUrl.replace(/\/+$/, '')}/api/deadletters`;
  async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${api}${path}`, init);
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      throw new ApiError(
        `Nothing is answering at ${baseUrl} (${cause}). In embedded mode (Jobs__UseServiceBus=false) the ` +
          'dead-letter queue lives inside the running app: start it with `npm start`, or point --url at it.',
      );
    }
    const text = await response.text();
    if (response.ok) return JSON.parse(text) as T;
    throw new ApiError(describeProblem(response.status, text));
  }
  const post = (body: unknown): RequestInit => ({
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return {
    list: ({ limit, jobType, reason }: DeadLetterListQuery) => {
      const query = new URLSearchParams({ limit: String(limit) });
      if (jobType) query.set('jobType', jobType);
      if (reason) query.set('reason', reason);
      return call<DeadLetterListing>(`?${query.toString()}`);
    },
    replay: (sequenceNumber: string, options: ReplayOptions = {}) =>
      call<ReplayResult>(`/${sequenceNumber}/replay`, post(options)),
    replayMatching: (filter: DeadLetterFilter) => call<BulkReplayResult>('/replay', post(filter)),
    discard: (sequenceNumber: string) => call<DiscardResult>(`/${sequenceNumber}`, { method: 'DELETE' }),
  };
}

function describeProblem(status: number, text: string): string {
  try {
    const problem = JSON.parse(text) as { title?: string; detail?: string; errors?: FieldError[] };
    return `${status} ${problem.title ?? ''}: ${problem.detail ?? ''}${formatFieldErrors(problem.errors ?? [])}`;
  } catch {
    return `${status}: ${text.slice(0, 500)}`;
  }
}
