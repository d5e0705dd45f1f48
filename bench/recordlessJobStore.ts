import type { JobStore } from '../src/jobs/ports/jobStore';
import { InMemoryJobStore } from '../src/store/inMemoryJobStore';

/**
 * A store that keeps no record: every create and every conditional write succeeds at once with a fresh ETag, and
 * nothing is held, so nothing is read back. Not a store (it loses everything and guards nothing): a measuring
 * device for `npm run bench`, where the app beside it on the same messages says how much of the app's CPU per job is
 * keeping records and how much is the rest of the job's path (validation, decisions, the host's invocation).
 */
export function recordlessJobStore(): JobStore {
  const empty = new InMemoryJobStore();
  let version = 0;
  const fresh = () => String((version += 1));
  return {
    create: async (record) => ({ created: true, stored: { record, etag: fresh() } }),
    createAll: async (jobs) =>
      jobs.map(({ record }) => ({ created: true, stored: { record, etag: fresh() } })),
    replace: async () => fresh(),
    get: (jobId) => empty.get(jobId),
    remove: (jobId, etag) => empty.remove(jobId, etag),
    list: (query) => empty.list(query),
    findUnfinished: (query) => empty.findUnfinished(query),
    findFinished: (query) => empty.findFinished(query),
    stats: (query) => empty.stats(query),
  };
}
