import { InMemoryJobStore } from '../../../src/store/inMemoryJobStore';
import type { JobRecord } from '../../../src/jobs/model/jobRecord';
import type { StoredJob } from '../../../src/jobs/ports/jobStore';
import { createNewRecord, jobRecordAt } from '../../support/jobFixtures';

describe('InMemoryJobStore', () => {
  it('returns the existing job for a second create of the same jobId', async () => {
    const store = new InMemoryJobStore();
    const record = jobRecordAt('2026-01-01T00:00:00Z');
    await store.create(record);

    const second = await store.create({ ...record, subjectId: 'another try' });

    expect(second).toMatchObject({
      created: false,
      existing: { record: { jobId: record.jobId, subjectId: '' } },
    });
  });

  it('replaces a record only when the caller names its current version', async () => {
    const store = new InMemoryJobStore();
    const { record, etag } = await createNewRecord(store, jobRecordAt('2026-01-01T00:00:00Z'));

    const newEtag = await store.replace({ ...record, status: 'Running' }, etag);
    const stale = await store.replace({ ...record, status: 'Completed' }, etag);

    expect(newEtag).toBeDefined();
    expect(newEtag).not.toBe(etag);
    expect(stale).toBeUndefined();
    expect((await store.get(record.jobId))?.record.status).toBe('Running');
  });

  it('lists newest first, filtered by status and job type, a page at a time', async () => {
    const store = new InMemoryJobStore();
    for (const [second, jobType] of [
      [1, 'a'],
      [2, 'b'],
      [3, 'a'],
      [4, 'a'],
    ] as const) {
      await store.create(jobRecordAt(`2026-01-01T00:00:0${second}Z`, { jobType, subjectId: `s${second}` }));
    }

    const first = await store.list({ jobType: 'a', limit: 2 });
    const second = await store.list({ jobType: 'a', limit: 2, continuationToken: first.continuationToken });
    const none = await store.list({ status: 'Completed', limit: 10 });

    expect(first.jobs.map((job) => job.subjectId)).toEqual(['s4', 's3']);
    expect(second.jobs.map((job) => job.subjectId)).toEqual(['s1']);
    expect(second.continuationToken).toBeUndefined();
    expect(none.jobs).toEqual([]);
  });

  it('keeps the latest finished jobs, evicting the longest finished first, however many come and go', async () => {
    const store = new InMemoryJobStore(3);
    const finish = async (record: JobRecord) => {
      const stored = await store.get(record.jobId);
      await store.replace({ ...(stored?.record ?? record), status: 'Completed' }, stored?.etag ?? '');
    };
    const records = Array.from({ length: 50 }, (_, index) =>
      jobRecordAt(`2026-01-01T00:00:${String(index).padStart(2, '0')}Z`),
    );
    for (const record of records) await store.create(record);

    for (const record of records.slice(0, 40)) await finish(record);
    // Finished again (a replay that ended once more): it is now the latest finished, not the oldest.
    const refinished = records[38] as JobRecord;
    const { etag } = (await store.get(refinished.jobId)) as StoredJob;
    await store.replace({ ...refinished, status: 'Running' }, etag);
    await finish(refinished);
    await store.remove(
      (records[39] as JobRecord).jobId,
      ((await store.get((records[39] as JobRecord).jobId)) as StoredJob).etag,
    );
    await finish(records[40] as JobRecord);

    const kept = await Promise.all(records.slice(0, 41).map((record) => store.get(record.jobId)));
    expect(kept.flatMap((stored, index) => (stored ? [index] : []))).toEqual([37, 38, 40]);
    // Unfinished jobs are never evicted.
    expect(await Promise.all(records.slice(41).map((record) => store.get(record.jobId)))).not.toContain(
      undefined,
    );
  });
});
