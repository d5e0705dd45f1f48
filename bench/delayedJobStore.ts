import { setTimeout as sleep } from 'node:timers/promises';
import type { JobStore } from '../src/jobs/ports/jobStore';
import { InMemoryJobStore } from '../src/store/inMemoryJobStore';

/**
 * Table Storage's latency without Azurite's CPU: the in-memory store, each call waiting as many round trips as the
 * Table adapter waits for in it (a create: its index rows, then its record; a replace: its record, the index rows
 * written behind it; a read: one). On two cores, Azurite behind a delaying proxy measures Azurite; this measures the
 * app at Azure's round trips.
 */
export function delayedJobStore(roundTripMs: number): JobStore {
  const store = new InMemoryJobStore();
  const after =
    <A extends unknown[], R>(roundTrips: number, call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      await sleep(roundTrips * roundTripMs);
      return call(...args);
    };
  return {
    create: after(2, (record, body) => store.create(record, body)),
    // A batch: its commit, then its records at once, each after its index rows (the commit's rows are removed behind).
    createAll: async (jobs) => {
      await sleep((jobs.length === 1 ? 2 : 3) * roundTripMs);
      return store.createAll(jobs);
    },
    get: after(1, (jobId) => store.get(jobId)),
    replace: after(1, (record, etag) => store.replace(record, etag)),
    remove: after(2, (jobId, etag) => store.remove(jobId, etag)),
    list: after(1, (query) => store.list(query)),
    findUnfinished: after(1, (query) => store.findUnfinished(query)),
    findFinished: after(1, (query) => store.findFinished(query)),
    stats: after(1, (query) => store.stats(query)),
  };
}
