import { InfrastructureError } from '../errors';
import type { JobRecord } from '../model/jobRecord';
import type { JobStore, StoredJob } from '../ports/jobStore';

/** What a writer makes of the record it is shown: a new version to write, the job removed, or nothing to do. */
export type RecordChange<R> =
  | { readonly write: JobRecord; readonly result: R }
  | { readonly remove: true; readonly result: R }
  | { readonly keep: R };

export interface ChangedRecord<R> {
  readonly result: R;
  /** The job as it stands after the change: the version written, the one read when nothing was written, or none. */
  readonly stored: StoredJob | undefined;
}

/** Rounds of read, change and conditional write before giving up on a record that keeps changing under us. */
const maxRounds = 5;

/**
 * The one conditional-write loop, for every writer of job records: shows `change` the record (the version given,
 * else one read), writes what it asks for naming the version it saw, and on a conflict reads the record again and
 * asks again, a bounded number of times. `change` decides from the record alone (a pure transition, usually), so
 * deciding again on a newer version is always right.
 * @returns the change's result with the job as it then stands; `undefined` when there is no such job.
 */
export async function changeRecord<R>(
  store: Pick<JobStore, 'get' | 'replace' | 'remove'>,
  from: StoredJob | string,
  change: (record: JobRecord) => RecordChange<R>,
): Promise<ChangedRecord<R> | undefined> {
  let current = typeof from === 'string' ? await store.get(from) : from;
  const jobId = typeof from === 'string' ? from : from.record.jobId;
  for (let round = 1; round <= maxRounds; round += 1) {
    if (!current) return undefined;
    const changed = change(current.record);
    if ('keep' in changed) return { result: changed.keep, stored: current };
    if ('remove' in changed) {
      if (await store.remove(jobId, current.etag)) return { result: changed.result, stored: undefined };
    } else {
      const etag = await store.replace(changed.write, current.etag);
      if (etag !== undefined) {
        const { body } = current;
        return {
          result: changed.result,
          stored:
            body === undefined ? { record: changed.write, etag } : { record: changed.write, etag, body },
        };
      }
    }
    current = await store.get(jobId);
  }
  throw new InfrastructureError('StoreUnavailable', `Job ${jobId} kept changing while it was being written.`);
}
