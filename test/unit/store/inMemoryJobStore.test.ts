import { InMemoryJobStore } from '../../../src/store/inMemoryJobStore';
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
});
