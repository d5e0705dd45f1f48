import type { JobRecord } from '../../../../src/jobs/model/jobRecord';
import { changeRecord } from '../../../../src/jobs/support/changeRecord';
import { InMemoryJobStore } from '../../../../src/store/inMemoryJobStore';
import { createNewRecord, jobRecordAt } from '../../../support/jobFixtures';

const queued = () => jobRecordAt('2026-01-01T10:00:00.000Z');

describe('changeRecord', () => {
  it('when another writer moved the record on between the read and the write, then it decides again on the newer version', async () => {
    const store = new InMemoryJobStore();
    const stale = await createNewRecord(store, queued());
    await store.replace({ ...stale.record, subjectId: 'moved on' }, stale.etag);
    const seen: string[] = [];

    const changed = await changeRecord(store, stale, (record) => {
      seen.push(record.subjectId);
      return { write: { ...record, correlationId: 'mine' }, result: record.subjectId };
    });

    expect(seen).toEqual(['', 'moved on']);
    expect(changed?.result).toBe('moved on');
    expect((await store.get(stale.record.jobId))?.record).toMatchObject({
      subjectId: 'moved on',
      correlationId: 'mine',
    });
    expect(changed?.stored).toEqual(await store.get(stale.record.jobId));
  });

  it('when the change asks for nothing, then nothing is written and the version read is returned', async () => {
    const store = new InMemoryJobStore();
    const stored = await createNewRecord(store, queued());

    const changed = await changeRecord(store, stored.record.jobId, () => ({ keep: 'left alone' }));

    expect(changed).toEqual({ result: 'left alone', stored: await store.get(stored.record.jobId) });
    expect(await store.get(stored.record.jobId)).toEqual(stored);
  });

  it('removes a job only on the version it decided on', async () => {
    const store = new InMemoryJobStore();
    const stale = await createNewRecord(store, queued());
    await store.replace({ ...stale.record, status: 'Running' }, stale.etag);

    const changed = await changeRecord(store, stale, (record: JobRecord) =>
      record.status === 'Queued' ? { remove: true, result: 'removed' } : { keep: 'kept' },
    );

    expect(changed?.result).toBe('kept');
    expect((await store.get(stale.record.jobId))?.record.status).toBe('Running');
  });

  it('says there is no job when there is none', async () => {
    expect(await changeRecord(new InMemoryJobStore(), queued().jobId, () => ({ keep: 1 }))).toBeUndefined();
  });

  it('gives up, as unavailable, on a record that keeps changing under every write', async () => {
    const store = new InMemoryJobStore();
    const stored = await createNewRecord(store, queued());
    let writes = 0;
    const racing = {
      ...store,
      get: (jobId: string) => store.get(jobId),
      remove: (jobId: string, etag: string) => store.remove(jobId, etag),
      // Another writer always gets there first.
      replace: async (record: JobRecord) => {
        writes += 1;
        const current = await store.get(record.jobId);
        await store.replace({ ...record, subjectId: `other ${writes}` }, current?.etag ?? '');
        return undefined;
      },
    };

    const attempt = changeRecord(racing, stored, (record) => ({ write: { ...record }, result: true }));

    await expect(attempt).rejects.toMatchObject({ code: 'StoreUnavailable' });
    expect(writes).toBe(5);
  });
});
