import type {
  BulkReplayResult,
  DeadLetterFilter,
  DeadLetterListQuery,
  DeadLetterListing,
  DiscardResult,
  ReplayOptions,
  ReplayResult,
} from '../../src/jobs/operators/deadLetterService';
import { callAppApi, postJson } from '../cli/appApi';
import type { DeadLetterOperations } from './deadLetterOperations';

/**
 * The dead-letter operations of a running app, over its HTTP API: in embedded mode the in-memory sub-queue lives
 * inside that process, so nothing else can reach it.
 */
export function httpDeadLetterOperations(baseUrl: string): DeadLetterOperations {
  const call = <T>(path: string, init?: RequestInit) => callAppApi<T>(baseUrl, `/deadletters${path}`, init);
  return {
    list: ({ limit, jobType, reason }: DeadLetterListQuery) => {
      const query = new URLSearchParams({ limit: String(limit) });
      if (jobType) query.set('jobType', jobType);
      if (reason) query.set('reason', reason);
      return call<DeadLetterListing>(`?${query.toString()}`);
    },
    replay: (sequenceNumber: string, options: ReplayOptions = {}) =>
      call<ReplayResult>(`/${sequenceNumber}/replay`, postJson(options)),
    replayMatching: (filter: DeadLetterFilter) => call<BulkReplayResult>('/replay', postJson(filter)),
    discard: (sequenceNumber: string) => call<DiscardResult>(`/${sequenceNumber}`, { method: 'DELETE' }),
  };
}
