import { InMemoryJobStore } from '../../src/store/inMemoryJobStore';
import type { JobStore } from '../../src/store/jobStore';
import { TableJobStore } from '../../src/store/tableJobStore';
import { TableClient } from '@azure/data-tables';
import type { StartedAzurite } from '../../tools/azurite/startAzurite';
import { startAzurite } from '../../tools/azurite/startAzurite';
import { jobRecordAt } from '../support/jobFixtures';

let azurite: StartedAzurite;
let tableCount = 0;

beforeAll(async () => {
  azurite = await startAzurite();
});

afterAll(() => azurite?.close());

const adapters: Array<[string, () => JobStore]> = [
  ['in-memory', () => new InMemoryJobStore()],
  [
    'Table Storage (Azurite)',
    () => {
      tableCount += 1;
      const table = TableClient.fromConnectionString(azurite.connectionString, `Contract${tableCount}`, {
        allowInsecureConnection: true,
      });
      return new TableJobStore(table, () => new Date('2026-01-01T12:00:00Z'));
    },
  ],
];

describe.each(adapters)('JobStore contract: %s', (_, createStore) => {
  let store: JobStore;

  beforeEach(() => {
    store = createStore();
  });

  it('creates a job once: a second create of the same jobId returns the first', async () => {
    const record = jobRecordAt('2026-01-01T10:00:00Z');

    const first = await store.create(record);
    const second = await store.create({ ...record, subjectId: 'second try' });

    expect(first.created).toBe(true);
    expect(second).toMatchObject({
      created: false,
      existing: { record: { jobId: record.jobId, subjectId: '' } },
    });
  });

  it('lists a job once even when it was created again later (a repeated idempotency key)', async () => {
    const record = jobRecordAt('2026-01-01T10:00:00Z');
    await store.create(record);

    await store.create({ ...record, submittedAt: '2026-01-01T11:00:00.000Z' });

    expect((await store.list({ limit: 10 })).jobs.map((job) => job.jobId)).toEqual([record.jobId]);
  });

  it('of many concurrent creates of one jobId, exactly one wins', async () => {
    const record = jobRecordAt('2026-01-01T10:00:00Z');

    const results = await Promise.all(Array.from({ length: 20 }, () => store.create(record)));

    expect(results.filter((result) => result.created)).toHaveLength(1);
  });

  it('reads back exactly what was written', async () => {
    const record = jobRecordAt('2026-01-01T10:00:00Z', { subjectId: 'doc-1' });
    await store.create(record);

    expect((await store.get(record.jobId))?.record).toEqual(record);
    expect(await store.get('00000000-0000-0000-0000-000000000000')).toBeUndefined();
  });

  it('replaces a record only for the writer that names its current version', async () => {
    const record = jobRecordAt('2026-01-01T10:00:00Z');
    await store.create(record);
    const read = await store.get(record.jobId);

    const winners = await Promise.all(
      ['worker-a', 'worker-b', 'worker-c'].map((claimedBy) =>
        store.replace({ ...record, status: 'Running', claimedBy }, read?.etag ?? ''),
      ),
    );

    expect(winners.filter((etag) => etag !== undefined)).toHaveLength(1);
    const after = await store.get(record.jobId);
    expect(after?.etag).toBe(winners.find((etag) => etag !== undefined));
    expect(after?.record.status).toBe('Running');
  });

  it('removes a job so its id can be created again', async () => {
    const record = jobRecordAt('2026-01-01T10:00:00Z');
    await store.create(record);

    await store.remove(record.jobId);

    expect(await store.get(record.jobId)).toBeUndefined();
    expect((await store.create(record)).created).toBe(true);
  });

  it('lists newest first, filtered by status and job type, a page at a time', async () => {
    const records = [
      jobRecordAt('2026-01-01T09:00:00Z', { jobType: 'a', subjectId: 'oldest' }),
      jobRecordAt('2026-01-01T10:00:00Z', { jobType: 'b', subjectId: 'other type' }),
      jobRecordAt('2025-12-31T23:00:00Z', { jobType: 'a', subjectId: 'yesterday' }),
      jobRecordAt('2026-01-01T11:00:00Z', { jobType: 'a', subjectId: 'newest' }),
    ];
    for (const record of records) await store.create(record);
    const dead = (await store.get(records[0]?.jobId ?? ''))!;
    await store.replace({ ...dead.record, status: 'DeadLettered' }, dead.etag);

    const first = await store.list({ jobType: 'a', limit: 2 });
    const second = await store.list({ jobType: 'a', limit: 2, continuationToken: first.continuationToken });
    const deadLettered = await store.list({ status: 'DeadLettered', limit: 10 });

    expect(first.jobs.map((job) => job.subjectId)).toEqual(['newest', 'oldest']);
    expect(second.jobs.map((job) => job.subjectId)).toEqual(['yesterday']);
    expect(deadLettered.jobs.map((job) => job.subjectId)).toEqual(['oldest']);
  });
});
