import type { TableServiceClientOptions } from '@azure/data-tables';
import { TableClient } from '@azure/data-tables';
import type { PipelinePolicy, PipelineRequest } from '@azure/core-rest-pipeline';
import { RestError, createHttpHeaders } from '@azure/core-rest-pipeline';
import type { JobRecord } from '../../src/jobs/model/jobRecord';
import { transition } from '../../src/jobs/model/jobTransitions';
import { InvalidContinuationTokenError } from '../../src/jobs/errors';
import { InMemoryJobStore } from '../../src/store/inMemoryJobStore';
import type { JobListQuery, JobStore, NewJob, StoredJob } from '../../src/jobs/ports/jobStore';
import { TableJobStore } from '../../src/store/tableJobStore';
import type { StartedAzurite } from '../../tools/azurite/startAzurite';
import { startAzurite } from '../../tools/azurite/startAzurite';
import { jobRecordAt } from '../support/jobFixtures';
import { waitFor } from '../support/waitFor';
import type { CostModelOptions } from '../../bench/costModel/tableCostModel';
import { CostModelTable } from '../../bench/costModel/tableCostModel';

let azurite: StartedAzurite;
let tableCount = 0;

beforeAll(async () => {
  azurite = await startAzurite();
});

afterAll(() => azurite?.close());

const now = new Date('2026-01-01T12:00:00Z');

/** A fresh table; `policies` sit in its HTTP pipeline, to count requests or to open a failure window on purpose. */
function newTable(policies: TableServiceClientOptions['additionalPolicies'] = []): TableClient {
  tableCount += 1;
  return TableClient.fromConnectionString(azurite.connectionString, `Contract${tableCount}`, {
    allowInsecureConnection: true,
    // The SDK's retry of a request whose answer was lost is part of what is tested; no need to wait for it.
    retryOptions: { retryDelayInMs: 1, maxRetryDelayInMs: 1 },
    additionalPolicies: policies,
  });
}

function tableStore(policies: TableServiceClientOptions['additionalPolicies'] = []): TableJobStore {
  return new TableJobStore(newTable(policies), () => now);
}

/** The store on the cost model: Table Storage's semantics in memory, pages ending at every partition boundary or not. */
function costModelStore(options: CostModelOptions): TableJobStore {
  return new TableJobStore(new CostModelTable(options) as unknown as TableClient, () => now);
}

const adapters: Array<[string, () => JobStore]> = [
  ['in-memory', () => new InMemoryJobStore()],
  ['Table Storage (Azurite)', () => tableStore()],
  ['Table Storage semantics (cost model)', () => costModelStore({})],
  [
    'Table Storage semantics (cost model, pages ending at partitions)',
    () => costModelStore({ endPagesAtPartitionBoundaries: true }),
  ],
];

async function createNew(store: JobStore, record: JobRecord, body?: string): Promise<StoredJob> {
  const result = await store.create(record, body);
  if (!result.created) throw new Error(`expected job ${record.jobId} to be new`);
  return result.stored;
}

/** Every page of a listing, in order; fails rather than hangs should the listing stop making progress. */
async function listAll(store: JobStore, query: Omit<JobListQuery, 'continuationToken'>): Promise<string[]> {
  const jobIds: string[] = [];
  let continuationToken: string | undefined;
  for (let pages = 0; pages < 200; pages += 1) {
    const page = await store.list({ ...query, continuationToken });
    expect(page.jobs.length).toBeLessThanOrEqual(query.limit);
    jobIds.push(...page.jobs.map((job) => job.jobId));
    continuationToken = page.continuationToken;
    if (!continuationToken) return jobIds;
  }
  throw new Error('the listing did not end after 200 pages');
}

/** The listing's order: newest submission first, then by jobId. */
function newestFirst(records: readonly JobRecord[]): string[] {
  return [...records]
    .sort(
      (a, b) =>
        Date.parse(b.submittedAt) - Date.parse(a.submittedAt) ||
        (a.jobId < b.jobId ? -1 : a.jobId > b.jobId ? 1 : 0),
    )
    .map((record) => record.jobId);
}

function bodyOf(record: JobRecord, payload: unknown = {}): string {
  return JSON.stringify({ jobId: record.jobId, jobType: record.jobType, payload });
}

describe.each(adapters)('JobStore contract: %s', (_, createStore) => {
  let store: JobStore;

  beforeEach(() => {
    store = createStore();
  });

  describe('create', () => {
    it('creates a job once: a second create of the same jobId with another record returns the first', async () => {
      const record = jobRecordAt('2026-01-01T10:00:00Z');
      await store.create(record, bodyOf(record));

      const second = await store.create({ ...record, subjectId: 'second try' }, bodyOf(record, 'other'));

      expect(second).toEqual({ created: false, existing: await store.get(record.jobId) });
      expect(await store.get(record.jobId)).toMatchObject({ record, body: bodyOf(record) });
    });

    it('recognises its own create: the same record created again (a retry) says created, with the stored version', async () => {
      const record = jobRecordAt('2026-01-01T10:00:00Z');
      const first = await store.create(record, bodyOf(record));

      const second = await store.create(record, bodyOf(record));

      expect(first).toMatchObject({ created: true, stored: { record, body: bodyOf(record) } });
      expect(second).toEqual(first);
      expect(second).toEqual({ created: true, stored: await store.get(record.jobId) });
    });

    it("takes an equal record made by another writer (one key submitted twice at once) for the other's", async () => {
      const record = jobRecordAt('2026-01-01T10:00:00Z');
      await store.create(record, bodyOf(record));

      const other = await store.create({ ...record }, bodyOf(record));

      expect(other).toMatchObject({ created: false, existing: { record } });
    });

    it('of many concurrent creates of one jobId with different records, exactly one wins and all see it', async () => {
      const record = jobRecordAt('2026-01-01T10:00:00Z');

      const results = await Promise.all(
        Array.from({ length: 20 }, (_, index) => store.create({ ...record, subjectId: `try ${index}` })),
      );

      const winners = results.filter((result) => result.created);
      expect(winners).toHaveLength(1);
      const winner = winners[0]?.stored.record;
      expect(results.map((result) => (result.created ? result.stored : result.existing).record)).toEqual(
        Array.from({ length: 20 }, () => winner),
      );
    });
  });

  describe('createAll', () => {
    it('commits a batch: every job created, read back with its body, and listed', async () => {
      const records = [1, 2, 3].map((minute) => jobRecordAt(`2026-01-01T10:0${minute}:00Z`));

      const results = await store.createAll(records.map((record) => ({ record, body: bodyOf(record) })));

      expect(results.map((result) => result.created)).toEqual([true, true, true]);
      for (const [index, record] of records.entries()) {
        const stored = await store.get(record.jobId);
        expect(stored).toMatchObject({ record, body: bodyOf(record) });
        expect(results[index]).toEqual({ created: true, stored });
      }
      expect(await listAll(store, { limit: 10 })).toEqual(newestFirst(records));
    });

    it('reads a job another writer created already, and creates the rest', async () => {
      const existing = jobRecordAt('2026-01-01T10:00:00Z');
      await store.create(existing, bodyOf(existing));
      const fresh = jobRecordAt('2026-01-01T10:01:00Z');

      const results = await store.createAll([
        { record: { ...existing, subjectId: 'a repeat' }, body: bodyOf(existing, 'repeat') },
        { record: fresh, body: bodyOf(fresh) },
      ]);

      expect(results).toEqual([
        { created: false, existing: await store.get(existing.jobId) },
        { created: true, stored: await store.get(fresh.jobId) },
      ]);
      expect((await store.get(existing.jobId))?.body).toBe(bodyOf(existing));
    });

    it('of concurrent batches sharing jobs, each job is created by exactly one and read by the others', async () => {
      const shared = [1, 2, 3].map((minute) => jobRecordAt(`2026-01-01T10:0${minute}:00Z`));

      const batches = await Promise.all(
        Array.from({ length: 5 }, (_, batch) =>
          store.createAll(
            shared.map((record) => ({
              record: { ...record, subjectId: `batch ${batch}` },
              body: bodyOf(record),
            })),
          ),
        ),
      );

      for (const [index, record] of shared.entries()) {
        const results = batches.map((results) => results[index]);
        expect(results.filter((result) => result?.created)).toHaveLength(1);
        const stored = await store.get(record.jobId);
        expect(results.map((result) => (result?.created ? result.stored : result?.existing)?.record)).toEqual(
          Array.from({ length: 5 }, () => stored?.record),
        );
      }
    });
  });

  describe('get', () => {
    it('reads back exactly what was written, body included', async () => {
      const record = jobRecordAt('2026-01-01T10:00:00Z', { subjectId: 'doc-1' });
      const withoutBody = jobRecordAt('2026-01-01T10:00:00Z');
      await store.create(record, bodyOf(record, { text: 'naïve 😀' }));
      await store.create(withoutBody);

      expect(await store.get(record.jobId)).toMatchObject({
        record,
        body: bodyOf(record, { text: 'naïve 😀' }),
      });
      expect((await store.get(withoutBody.jobId))?.body).toBeUndefined();
      expect(await store.get('00000000-0000-0000-0000-000000000000')).toBeUndefined();
    });

    it('keeps a body of 256 KB, characters beyond one storage property and across its boundaries', async () => {
      const record = jobRecordAt('2026-01-01T10:00:00Z');
      // 6 bytes of '{"p":"' and 63,993 'a's put an emoji's four bytes either side of the 64,000th byte.
      const payload = `${'a'.repeat(63_993)}😀${'b'.repeat(150_000)}${'é😀'.repeat(5_000)}`;
      const body = JSON.stringify({ p: payload });

      await store.create(record, body);

      expect(Buffer.byteLength(body)).toBeLessThanOrEqual(256 * 1024);
      expect((await store.get(record.jobId))?.body).toBe(body);
    });
  });

  describe('replace', () => {
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

    it('recognises its own replace: the same record written again on a stale version gets its current version', async () => {
      const { record, etag } = await createNew(store, jobRecordAt('2026-01-01T10:00:00Z'));
      const running: JobRecord = { ...record, status: 'Running', attempt: 1, claimedBy: 'worker-a' };
      const applied = await store.replace(running, etag);

      const again = await store.replace(running, etag);

      expect(applied).toBeDefined();
      expect(again).toBe(applied);
      expect(await store.get(record.jobId)).toMatchObject({ record: running, etag: applied });
    });

    it('refuses a stale version from another writer, even with an equal record', async () => {
      const { record, etag } = await createNew(store, jobRecordAt('2026-01-01T10:00:00Z'));
      const running: JobRecord = { ...record, status: 'Running', attempt: 1, claimedBy: 'worker-a' };
      await store.replace(running, etag);

      expect(await store.replace({ ...running }, etag)).toBeUndefined();
    });

    it('refuses a stale version naming another record than the one stored', async () => {
      const { record, etag } = await createNew(store, jobRecordAt('2026-01-01T10:00:00Z'));
      const running: JobRecord = { ...record, status: 'Running', attempt: 1, claimedBy: 'worker-a' };
      await store.replace(running, etag);

      const stale = await store.replace({ ...running, claimedBy: 'worker-b' }, etag);

      expect(stale).toBeUndefined();
      expect((await store.get(record.jobId))?.record).toEqual(running);
    });

    it('refuses to replace a job that does not exist', async () => {
      const other = await createNew(store, jobRecordAt('2026-01-01T10:00:00Z'));
      const record = jobRecordAt('2026-01-01T10:00:00Z');

      expect(await store.replace(record, other.etag)).toBeUndefined();
      expect(await store.get(record.jobId)).toBeUndefined();
    });

    it('keeps the body through replaces', async () => {
      const created = await createNew(store, jobRecordAt('2026-01-01T10:00:00Z'), '{"large":"enough"}');
      const running: JobRecord = { ...created.record, status: 'Running', attempt: 1 };
      const etag = await store.replace(running, created.etag);

      await store.replace({ ...running, status: 'Completed' }, etag ?? '');

      expect(await store.get(created.record.jobId)).toMatchObject({
        record: { status: 'Completed' },
        body: '{"large":"enough"}',
      });
    });
  });

  describe('remove', () => {
    it('removes a job that still has the version named, so its id can be created again', async () => {
      const { record, etag } = await createNew(store, jobRecordAt('2026-01-01T10:00:00Z'));

      const removed = await store.remove(record.jobId, etag);

      expect(removed).toBe(true);
      expect(await store.get(record.jobId)).toBeUndefined();
      expect((await store.list({ limit: 10 })).jobs).toEqual([]);
      expect((await store.create(record)).created).toBe(true);
    });

    it('never removes a job someone changed since', async () => {
      const { record, etag } = await createNew(store, jobRecordAt('2026-01-01T10:00:00Z'));
      const claimed = await store.replace({ ...record, status: 'Running', attempt: 1 }, etag);

      const removed = await store.remove(record.jobId, etag);

      expect(removed).toBe(false);
      expect(await store.get(record.jobId)).toMatchObject({ etag: claimed, record: { status: 'Running' } });
      expect((await store.list({ limit: 10 })).jobs.map((job) => job.jobId)).toEqual([record.jobId]);
    });

    it('says removed for a job that is already gone', async () => {
      const { record, etag } = await createNew(store, jobRecordAt('2026-01-01T10:00:00Z'));
      await store.remove(record.jobId, etag);

      expect(await store.remove(record.jobId, etag)).toBe(true);
    });
  });

  describe('list', () => {
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

    it('lists by a job type of any characters, with or without a status, and unfinished jobs by their status', async () => {
      const odd = "a/b\\c#d?e'f%g|h ü 😀";
      const queued = await createNew(store, jobRecordAt('2026-01-01T09:00:00Z', { jobType: odd }));
      const running = await createNew(store, jobRecordAt('2026-01-01T10:00:00Z', { jobType: odd }));
      const other = await createNew(store, jobRecordAt('2026-01-01T10:30:00Z', { jobType: `${odd}x` }));
      const completed = await createNew(store, jobRecordAt('2026-01-01T11:00:00Z', { jobType: odd }));
      const runningRecord: JobRecord = { ...running.record, status: 'Running', attempt: 1 };
      const completedRecord: JobRecord = { ...completed.record, status: 'Completed', attempt: 1 };
      await store.replace(runningRecord, running.etag);
      await store.replace(completedRecord, completed.etag);

      const listed = (query: Omit<JobListQuery, 'continuationToken'>) => listAll(store, query);

      expect(await listed({ jobType: odd, limit: 10 })).toEqual([
        completed.record.jobId,
        running.record.jobId,
        queued.record.jobId,
      ]);
      expect(await listed({ jobType: odd, status: 'Completed', limit: 10 })).toEqual([
        completed.record.jobId,
      ]);
      expect(await listed({ jobType: odd, status: 'Running', limit: 10 })).toEqual([running.record.jobId]);
      expect(await listed({ status: 'Queued', limit: 10 })).toEqual([
        other.record.jobId,
        queued.record.jobId,
      ]);
      expect(await listed({ status: 'Running', limit: 10 })).toEqual([running.record.jobId]);
    });

    it('pages through jobs of two days three at a time, by status after replaces, each exactly once in order', async () => {
      const submitted = [
        '2026-01-01T11:59:00Z',
        '2026-01-01T11:00:00Z',
        '2026-01-01T11:00:00Z',
        '2026-01-01T11:00:00Z',
        '2026-01-01T08:30:00Z',
        '2026-01-01T03:00:00+02:00',
        '2026-01-01T00:00:00Z',
        '2025-12-31T23:59:59.999Z',
        '2025-12-31T20:00:00Z',
        '2025-12-31T20:00:00Z',
        '2025-12-31T12:00:00Z',
        '2025-12-31T06:00:00Z',
        '2025-12-31T00:00:00Z',
      ];
      const records = await Promise.all(
        submitted.map(async (at, index) => {
          const { record, etag } = await createNew(store, jobRecordAt(at));
          if (index % 3 === 0) return record;
          const running: JobRecord = { ...record, status: 'Running', attempt: 1 };
          const claimed = (await store.replace(running, etag)) ?? '';
          if (index % 3 === 1) return running;
          const completed: JobRecord = { ...running, status: 'Completed' };
          await store.replace(completed, claimed);
          return completed;
        }),
      );
      const inStatus = (status: string) => records.filter((record) => record.status === status);

      const all = await listAll(store, { limit: 3 });
      const queued = await listAll(store, { status: 'Queued', limit: 3 });
      const running = await listAll(store, { status: 'Running', limit: 3 });
      const completed = await listAll(store, { status: 'Completed', limit: 3 });

      expect(all).toEqual(newestFirst(records));
      expect(queued).toEqual(newestFirst(inStatus('Queued')));
      expect(running).toEqual(newestFirst(inStatus('Running')));
      expect(completed).toEqual(newestFirst(inStatus('Completed')));
    });

    it('goes on after the last job listed: a job submitted between pages neither repeats nor hides one', async () => {
      for (const minute of [1, 2, 3, 4]) {
        await store.create(jobRecordAt(`2026-01-01T10:0${minute}:00Z`, { subjectId: `s${minute}` }));
      }
      const first = await store.list({ limit: 2 });

      await store.create(jobRecordAt('2026-01-01T10:05:00Z', { subjectId: 's5' }));
      const second = await store.list({ limit: 2, continuationToken: first.continuationToken });

      expect(first.jobs.map((job) => job.subjectId)).toEqual(['s4', 's3']);
      expect(second.jobs.map((job) => job.subjectId)).toEqual(['s2', 's1']);
    });

    it('lists a job once even when it was created again later (a repeated idempotency key)', async () => {
      const record = jobRecordAt('2026-01-01T10:00:00Z');
      await store.create(record);

      await store.create({ ...record, submittedAt: '2026-01-01T11:00:00.000Z' });

      expect((await store.list({ limit: 10 })).jobs.map((job) => job.jobId)).toEqual([record.jobId]);
    });

    it('keeps the original listed when its message is recorded again (same submission time, another record)', async () => {
      const record = jobRecordAt('2026-01-01T10:00:00Z');
      await store.create(record);

      const repeat = await store.create({ ...record, updatedAt: '2026-01-01T10:30:00.000Z' });

      expect(repeat.created).toBe(false);
      expect((await store.list({ limit: 10 })).jobs).toEqual([record]);
    });
  });

  describe('findUnfinished', () => {
    it('finds the jobs not finished and unchanged since the time given, bodies included', async () => {
      const at = (updatedAt: string, status: JobRecord['status']): JobRecord => ({
        ...jobRecordAt('2026-01-01T08:00:00Z'),
        status,
        updatedAt,
      });
      const stale = [
        at('2026-01-01T10:00:00Z', 'Queued'),
        at('2026-01-01T09:00:00Z', 'Running'),
        at('2026-01-01T10:59:59.999Z', 'Retrying'),
        // Ten thirty UTC: as text it sorts after eleven.
        at('2026-01-01T12:30:00+02:00', 'Running'),
      ];
      const notStale = [
        at('2026-01-01T09:00:00Z', 'Completed'),
        at('2026-01-01T09:00:00Z', 'DeadLettered'),
        at('2026-01-01T11:00:00Z', 'Queued'),
        at('2026-01-01T11:30:00Z', 'Running'),
      ];
      for (const record of [...stale, ...notStale]) await store.create(record, bodyOf(record));
      const finishedSince = await createNew(store, at('2026-01-01T09:00:00Z', 'Running'));
      await store.replace({ ...finishedSince.record, status: 'Completed' }, finishedSince.etag);
      const touchedSince = await createNew(store, at('2026-01-01T09:00:00Z', 'Running'));
      await store.replace(
        { ...touchedSince.record, updatedAt: '2026-01-01T11:45:00.000Z' },
        touchedSince.etag,
      );

      const found = await store.findUnfinished({
        updatedBefore: new Date('2026-01-01T11:00:00Z'),
        limit: 100,
      });

      const byJobId = (a: { record: JobRecord }, b: { record: JobRecord }) =>
        a.record.jobId < b.record.jobId ? -1 : 1;
      expect(found.map(({ record, body }) => ({ record, body })).sort(byJobId)).toEqual(
        stale.map((record) => ({ record, body: bodyOf(record) })).sort(byJobId),
      );
    });

    it('passes over the jobs that wait on a later time of their own, without counting them against the limit', async () => {
      const waiting: JobRecord[] = [
        ...Array.from({ length: 3 }, () => ({
          ...jobRecordAt('2026-01-01T09:00:00Z'),
          status: 'Retrying' as const,
          attempt: 1,
          nextAttemptAt: '2026-01-01T11:05:00.000Z',
        })),
        {
          ...jobRecordAt('2026-01-01T09:00:00Z'),
          status: 'Running',
          attempt: 1,
          claimedBy: 'worker-1',
          claimExpiresAt: '2026-01-01T11:10:00.000Z',
        },
      ];
      const idle: JobRecord[] = [
        {
          ...jobRecordAt('2026-01-01T09:00:00Z'),
          status: 'Retrying',
          attempt: 1,
          nextAttemptAt: '2026-01-01T10:30:00.000Z',
        },
        {
          ...jobRecordAt('2026-01-01T09:00:00Z'),
          status: 'Running',
          attempt: 1,
          claimedBy: 'worker-1',
          claimExpiresAt: '2026-01-01T10:40:00.000Z',
        },
      ];
      for (const record of [...waiting, ...idle]) await store.create(record, bodyOf(record));

      const found = await store.findUnfinished({ updatedBefore: new Date('2026-01-01T11:00:00Z'), limit: 2 });

      expect(found.map((stored) => stored.record.jobId).sort()).toEqual(
        idle.map((record) => record.jobId).sort(),
      );
    });

    it('finds no more than the limit', async () => {
      const records = Array.from({ length: 5 }, () => jobRecordAt('2026-01-01T10:00:00Z'));
      for (const record of records) await store.create(record);

      const found = await store.findUnfinished({ updatedBefore: new Date('2026-01-01T11:00:00Z'), limit: 3 });

      expect(found).toHaveLength(3);
      expect(records).toEqual(expect.arrayContaining(found.map((stored) => stored.record)));
    });
  });
});

async function indexRows(table: TableClient, partition: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const row of table.listEntities({ queryOptions: { filter: `PartitionKey eq '${partition}'` } }))
    keys.push(row.rowKey ?? '');
  return keys;
}

/** A request to the index: one of its rows, or a transaction of them (whose sub-requests name the partition). */
const isIndexRequest = (request: PipelineRequest) =>
  decodeURIComponent(request.url).includes("'index-") ||
  (typeof request.body === 'string' && request.body.includes("PartitionKey='index-"));

const isRecordWrite = (request: PipelineRequest) =>
  request.method !== 'GET' && !isIndexRequest(request) && !new URL(request.url).pathname.endsWith('/Tables');

/** Lets the next write of a job record reach Azurite, then loses its answer, once: the SDK sends it again. */
function losesAnAnswer(fault: { armed: boolean }): PipelinePolicy {
  return {
    name: 'losesAnAnswer',
    async sendRequest(request, next) {
      const response = await next(request);
      if (fault.armed && isRecordWrite(request)) {
        fault.armed = false;
        throw new RestError('Connection reset (injected after the write applied)', {
          code: 'ECONNRESET',
          request,
        });
      }
      return response;
    },
  };
}

const isCommit = (request: PipelineRequest) => request.method === 'POST' && request.url.endsWith('/$batch');

const isRecordCreate = (request: PipelineRequest) =>
  request.method === 'POST' && !isCommit(request) && String(request.body).includes('"RowKey":"job"');

/** Counts the inserts of job records under way, and the most at once. */
function countsRecordInsertsUnderWay(inserts: { underWay: number; most: number }): PipelinePolicy {
  return {
    name: 'countsRecordInsertsUnderWay',
    async sendRequest(request, next) {
      if (!isRecordCreate(request)) return next(request);
      inserts.underWay += 1;
      inserts.most = Math.max(inserts.most, inserts.underWay);
      try {
        return await next(request);
      } finally {
        inserts.underWay -= 1;
      }
    },
  };
}

async function outboxRows(table: TableClient): Promise<number> {
  const filter = "PartitionKey ge 'outbox-' and PartitionKey lt 'outbox.'";
  const rows = [];
  for await (const row of table.listEntities({ queryOptions: { filter } })) rows.push(row);
  return rows.length;
}

/** Lets the next batch commit reach Azurite, then loses its answer, once. */
function losesTheCommitAnswer(fault: { armed: boolean }): PipelinePolicy {
  return {
    name: 'losesTheCommitAnswer',
    async sendRequest(request, next) {
      const response = await next(request);
      if (fault.armed && isCommit(request)) {
        fault.armed = false;
        throw new RestError('Connection reset (injected after the commit applied)', {
          code: 'ECONNRESET',
          request,
        });
      }
      return response;
    },
  };
}

/** Drops the next batch commit before it reaches Azurite, with no answer, once. */
function dropsTheCommit(fault: { armed: boolean }): PipelinePolicy {
  return {
    name: 'dropsTheCommit',
    sendRequest(request, next) {
      if (!fault.armed || !isCommit(request)) return next(request);
      fault.armed = false;
      return Promise.reject(
        new RestError('Connection reset (injected before the commit)', { code: 'ECONNRESET', request }),
      );
    },
  };
}

/** While `outage.on`, every insert of a job record fails as an unreachable service would. */
function failsRecordCreates(outage: { on: boolean }): PipelinePolicy {
  return {
    name: 'failsRecordCreates',
    sendRequest(request, next) {
      if (outage.on && isRecordCreate(request))
        return Promise.reject(new RestError('Service unavailable (injected)', { statusCode: 503, request }));
      return next(request);
    },
  };
}

/** Every insert of a job record fails with no answer, with this socket error (after the SDK's retries too). */
function failsRecordCreatesWith(code: string): PipelinePolicy {
  return {
    name: 'failsRecordCreatesWith',
    sendRequest(request, next) {
      if (isRecordCreate(request))
        return Promise.reject(new RestError(`${code} (injected)`, { code, request }));
      return next(request);
    },
  };
}

/** The first transaction that deletes index rows fails, as if the process died before sending it. */
function failsIndexDeletesOnce(): PipelinePolicy {
  let failed = false;
  return {
    name: 'failsIndexDeletesOnce',
    sendRequest(request, next) {
      const body = typeof request.body === 'string' ? request.body : '';
      if (!failed && isIndexRequest(request) && /^DELETE /m.test(body)) {
        failed = true;
        return Promise.reject(new RestError('Service unavailable (injected)', { statusCode: 503, request }));
      }
      return next(request);
    },
  };
}

/** While `outage.on`, every write to the listing index fails as an unreachable service would. */
function failsIndexWrites(outage: { on: boolean }): PipelinePolicy {
  return {
    name: 'failsIndexWrites',
    sendRequest(request, next) {
      if (outage.on && request.method !== 'GET' && isIndexRequest(request))
        return Promise.reject(new RestError('Service unavailable (injected)', { statusCode: 503, request }));
      return next(request);
    },
  };
}

describe('TableJobStore on Azurite', () => {
  describe('a write whose answer was lost, retried by the SDK', () => {
    it('a create is recognised as ours: created, and listed', async () => {
      const fault = { armed: true };
      const store = tableStore([{ policy: losesAnAnswer(fault), position: 'perRetry' }]);
      const record = jobRecordAt('2026-01-01T10:00:00Z');

      const result = await store.create(record, bodyOf(record));

      expect(fault.armed).toBe(false);
      expect(result).toEqual({ created: true, stored: await store.get(record.jobId) });
      expect((await store.list({ limit: 10 })).jobs).toEqual([record]);
    });

    it('a replace is recognised as ours: its new version, and the listing in its new status', async () => {
      const fault = { armed: false };
      const store = tableStore([{ policy: losesAnAnswer(fault), position: 'perRetry' }]);
      const { record, etag } = await createNew(store, jobRecordAt('2026-01-01T10:00:00Z'));
      const running: JobRecord = { ...record, status: 'Running', attempt: 1 };
      fault.armed = true;

      const newEtag = await store.replace(running, etag);

      expect(fault.armed).toBe(false);
      expect(newEtag).toBeDefined();
      expect(await store.get(record.jobId)).toMatchObject({ etag: newEtag, record: running });
      expect((await store.list({ status: 'Running', limit: 10 })).jobs).toEqual([running]);
    });

    it('a removal is done', async () => {
      const fault = { armed: false };
      const store = tableStore([{ policy: losesAnAnswer(fault), position: 'perRetry' }]);
      const { record, etag } = await createNew(store, jobRecordAt('2026-01-01T10:00:00Z'));
      fault.armed = true;

      const removed = await store.remove(record.jobId, etag);

      expect(fault.armed).toBe(false);
      expect(removed).toBe(true);
      expect(await store.get(record.jobId)).toBeUndefined();
    });
  });

  describe('a single insert that gets no answer', () => {
    it('when the connection was made, then it may have applied: unavailable, outcome unknown', async () => {
      const store = tableStore([{ policy: failsRecordCreatesWith('ECONNRESET'), position: 'perRetry' }]);

      const attempt = store.create(jobRecordAt('2026-01-01T10:00:00Z'));

      await expect(attempt).rejects.toMatchObject({ code: 'StoreUnavailable', outcomeUnknown: true });
    });

    it('when the connection was refused, then nothing applied: unavailable, a plain refusal', async () => {
      const store = tableStore([{ policy: failsRecordCreatesWith('ECONNREFUSED'), position: 'perRetry' }]);

      const attempt = store.create(jobRecordAt('2026-01-01T10:00:00Z'));

      await expect(attempt).rejects.toMatchObject({ code: 'StoreUnavailable', outcomeUnknown: false });
    });
  });

  describe("a batch's commit", () => {
    const twoJobs = () =>
      ['2026-01-01T10:00:00Z', '2026-01-01T10:01:00Z'].map((at) => {
        const record = jobRecordAt(at);
        return { record, body: bodyOf(record) };
      });

    it('writes its records at once: every insert is under way before the first is answered', async () => {
      const inserts = { underWay: 0, most: 0 };
      const store = tableStore([{ policy: countsRecordInsertsUnderWay(inserts), position: 'perCall' }]);
      const jobs = Array.from({ length: 40 }, (_, second) => {
        const record = jobRecordAt(`2026-01-01T10:00:${String(second).padStart(2, '0')}Z`);
        return { record, body: bodyOf(record) };
      });

      const results = await store.createAll(jobs);

      expect(results.every((result) => result.created && result.stored.etag !== '')).toBe(true);
      expect(inserts.most).toBe(jobs.length);
    });

    it('when every record is written, then its rows are removed', async () => {
      const table = newTable();
      const store = new TableJobStore(table, () => now);

      await store.createAll(twoJobs());

      await waitFor(async () => (await outboxRows(table)) === 0, { description: 'the outbox rows removed' });
      expect(await outboxRows(table)).toBe(0);
    });

    it('when its answer is lost after it applied, then the tombstone finds it applied: the jobs are created', async () => {
      const fault = { armed: true };
      const store = tableStore([{ policy: losesTheCommitAnswer(fault), position: 'perCall' }]);
      const jobs = twoJobs();

      const results = await store.createAll(jobs);

      expect(fault.armed).toBe(false);
      expect(results.map((result) => result.created)).toEqual([true, true]);
      for (const { record } of jobs) expect((await store.get(record.jobId))?.record).toEqual(record);
    });

    it('when it never reached storage and no answer came, then the tombstone keeps it from ever applying: unavailable, and nothing is recorded', async () => {
      const fault = { armed: true };
      const table = newTable([{ policy: dropsTheCommit(fault), position: 'perCall' }]);
      const store = new TableJobStore(table, () => now);
      const jobs = twoJobs();

      const attempt = store.createAll(jobs);

      await expect(attempt).rejects.toMatchObject({ code: 'StoreUnavailable' });
      for (const { record } of jobs) expect(await store.get(record.jobId)).toBeUndefined();
      expect(await store.findUnfinished({ updatedBefore: new Date(Date.now() + 60_000), limit: 10 })).toEqual(
        [],
      );
    });

    it('when the records cannot be written after it, then the jobs are promised all the same: found by id (and written then), or by the sweep', async () => {
      const outage = { on: true };
      const store = tableStore([{ policy: failsRecordCreates(outage), position: 'perCall' }]);
      const [first, second] = twoJobs() as [NewJob, NewJob];

      const results = await store.createAll([first, second]);
      outage.on = false;
      const found = await store.get(first.record.jobId);
      const swept = await store.findUnfinished({ updatedBefore: new Date(Date.now() + 60_000), limit: 10 });

      expect(results).toEqual([
        { created: true, stored: { ...first, etag: '' } },
        { created: true, stored: { ...second, etag: '' } },
      ]);
      expect(found).toMatchObject({ record: first.record, body: first.body });
      expect(swept.map((stored) => stored.record.jobId).sort()).toEqual(
        [first.record.jobId, second.record.jobId].sort(),
      );
      expect(await store.get(second.record.jobId)).toMatchObject({
        record: second.record,
        body: second.body,
      });
      expect(await listAll(store, { limit: 10 })).toEqual(newestFirst([first.record, second.record]));
    });
  });

  describe('the index, when its writes fail', () => {
    it('a create that died after its index rows, before its record: the sweep removes the rows', async () => {
      const table = newTable([{ policy: failsRecordCreatesWith('ECONNREFUSED'), position: 'perRetry' }]);
      const store = new TableJobStore(table, () => now);
      const record = jobRecordAt('2026-01-01T10:00:00Z');
      await expect(store.create(record)).rejects.toMatchObject({ code: 'StoreUnavailable' });
      const rowsLeft = await indexRows(table, 'index-2026-01-01');

      const swept = await store.findUnfinished({ updatedBefore: now, limit: 10 });

      expect(rowsLeft.length).toBeGreaterThanOrEqual(3);
      expect(swept).toEqual([]);
      expect((await indexRows(table, 'index-2026-01-01')).filter((key) => !key.startsWith('v|'))).toEqual([]);
    });

    it("index writes of one job from two instances that crossed: the sweep writes the last record's index", async () => {
      const held: { release?: () => void; holding: boolean } = { holding: false };
      const holdsIndexWrites: PipelinePolicy = {
        name: 'holdsIndexWrites',
        async sendRequest(request, next) {
          if (held.holding && request.method !== 'GET' && isIndexRequest(request))
            await new Promise<void>((resolve) => (held.release = resolve));
          return next(request);
        },
      };
      const slowTable = newTable([{ policy: holdsIndexWrites, position: 'perCall' }]);
      const slow = new TableJobStore(slowTable, () => now);
      const { record, etag } = await createNew(slow, jobRecordAt('2026-01-01T10:00:00Z'));
      const running: JobRecord = {
        ...record,
        status: 'Running',
        attempt: 1,
        updatedAt: '2026-01-01T10:01:00.000Z',
      };
      held.holding = true;
      const runningEtag = await slow.replace(running, etag);
      await waitFor(() => held.release !== undefined, { description: 'the slow index write held' });
      held.holding = false;
      const fast = new TableJobStore(
        TableClient.fromConnectionString(azurite.connectionString, slowTable.tableName, {
          allowInsecureConnection: true,
        }),
        () => now,
      );
      const completed: JobRecord = { ...running, status: 'Completed', updatedAt: '2026-01-01T10:02:00.000Z' };
      await fast.replace(completed, runningEtag ?? '');
      await fast.list({ limit: 1 });
      held.release?.();
      await slow.list({ limit: 1 });
      const crossed = (await fast.list({ status: 'Running', limit: 10 })).jobs;
      const statsWindow = {
        submittedSince: new Date('2026-01-01T00:00:00Z'),
        outcomesSince: now,
        maxEntries: 100,
      };
      const countedCrossed = await fast.stats(statsWindow);

      const swept = await fast.findUnfinished({ updatedBefore: now, limit: 10 });

      expect(crossed).toEqual([]);
      // The index says what the slow write said: the job Running.
      expect(countedCrossed).toMatchObject({ byJobType: { [record.jobType]: { Running: 1 } } });
      expect(swept).toEqual([]);
      expect((await fast.list({ status: 'Completed', limit: 10 })).jobs).toEqual([completed]);
      expect(await fast.stats(statsWindow)).toMatchObject({
        byJobType: { [record.jobType]: { Completed: 1 } },
      });
    });

    it('a create fails as unavailable and records nothing: no job exists that the sweep could not find', async () => {
      const outage = { on: true };
      const store = tableStore([{ policy: failsIndexWrites(outage), position: 'perCall' }]);
      const record = jobRecordAt('2026-01-01T10:00:00Z');

      const attempt = store.create(record);

      await expect(attempt).rejects.toMatchObject({ code: 'StoreUnavailable', outcomeUnknown: false });
      expect(await store.get(record.jobId)).toBeUndefined();
      outage.on = false;
      expect(await store.create(record)).toMatchObject({ created: true });
      expect((await store.findUnfinished({ updatedBefore: now, limit: 10 })).map((s) => s.record)).toEqual([
        record,
      ]);
    });

    it("a finishing write's index lost: listed by its record meanwhile, and the sweep writes the index again", async () => {
      const outage = { on: false };
      const store = tableStore([{ policy: failsIndexWrites(outage), position: 'perCall' }]);
      const { record, etag } = await createNew(store, jobRecordAt('2026-01-01T10:00:00Z'));
      const completed: JobRecord = { ...record, status: 'Completed', updatedAt: '2026-01-01T10:05:00.000Z' };
      outage.on = true;
      await store.replace(completed, etag);
      // Read while the index cannot be written (the outage refuses writes only): the listing waits for its write.
      const beforeSweep = {
        completed: (await store.list({ status: 'Completed', limit: 10 })).jobs,
        queued: (await store.list({ status: 'Queued', limit: 10 })).jobs,
      };
      outage.on = false;

      const swept = await store.findUnfinished({ updatedBefore: now, limit: 10 });

      expect(beforeSweep).toEqual({ completed: [], queued: [] });
      expect(swept).toEqual([]);
      expect((await store.list({ status: 'Completed', limit: 10 })).jobs).toEqual([completed]);
      expect((await store.list({ limit: 10 })).jobs).toEqual([completed]);
    });

    it('a replace still succeeds; listings go by the record, never by the stale entry', async () => {
      const outage = { on: false };
      const store = tableStore([{ policy: failsIndexWrites(outage), position: 'perCall' }]);
      const { record, etag } = await createNew(store, jobRecordAt('2026-01-01T10:00:00Z'));
      const running: JobRecord = { ...record, status: 'Running', attempt: 1 };
      outage.on = true;

      const newEtag = await store.replace(running, etag);

      expect(newEtag).toBeDefined();
      expect((await store.get(record.jobId))?.record).toEqual(running);
      expect((await store.list({ limit: 10 })).jobs).toEqual([running]);
      expect((await store.list({ status: 'Queued', limit: 10 })).jobs).toEqual([]);
    });

    it('a removed job whose entry is left is not listed, nor listed twice once its id is created again', async () => {
      const outage = { on: false };
      const store = tableStore([{ policy: failsIndexWrites(outage), position: 'perCall' }]);
      const { record, etag } = await createNew(store, jobRecordAt('2026-01-01T10:00:00Z'));
      outage.on = true;
      const removed = await store.remove(record.jobId, etag);
      outage.on = false;
      const afterRemoval = await store.list({ limit: 10 });

      const again: JobRecord = { ...record, submittedAt: '2026-01-01T11:00:00.000Z' };
      await createNew(store, again);

      expect(removed).toBe(true);
      expect(afterRemoval.jobs).toEqual([]);
      expect((await store.list({ limit: 10 })).jobs).toEqual([again]);
    });
  });

  it('stores a body as UTF-8 in binary properties of at most 64,000 bytes, rejoined exactly', async () => {
    const table = newTable();
    const store = new TableJobStore(table, () => now);
    const record = jobRecordAt('2026-01-01T10:00:00Z');
    const body = JSON.stringify({ p: `${'a'.repeat(63_993)}😀${'b'.repeat(100_000)}` });

    await store.create(record, body);

    const entity = await table.getEntity<Record<string, unknown>>(record.jobId, 'job');
    const bodyParts = Object.keys(entity)
      .filter((name) => /^body\d+$/.test(name))
      .sort((a, b) => Number(a.slice(4)) - Number(b.slice(4)))
      .map((name) => entity[name] as Uint8Array);
    expect(JSON.parse(String(entity['record']))).toEqual(record);
    expect(bodyParts).toHaveLength(3);
    expect(Buffer.concat(bodyParts).toString('utf8')).toBe(body);
    expect(Math.max(...bodyParts.map((part) => part.length))).toBeLessThanOrEqual(64_000);
  });

  describe('the rows a create leaves when it loses to an existing record (a repeated idempotency key)', () => {
    it('are removed by the create that lost', async () => {
      const table = newTable();
      const store = new TableJobStore(table, () => now);
      const first = await createNew(store, jobRecordAt('2026-01-01T10:00:00Z'));
      const repeat: JobRecord = { ...first.record, submittedAt: '2026-01-01T10:30:00.000Z' };

      expect(await store.create(repeat)).toMatchObject({ created: false });

      expect(await indexRows(table, 'index-2026-01-01')).toEqual(
        expect.not.arrayContaining([
          expect.stringContaining(String(9_999_999_999_999 - Date.parse(repeat.submittedAt))),
        ]),
      );
      expect(await listAll(store, { limit: 10 })).toEqual([first.record.jobId]);
    });

    /** A create that lost and died before removing its rows (its deletes refused). */
    async function lostCreate() {
      const table = newTable([{ policy: failsIndexDeletesOnce(), position: 'perCall' }]);
      const store = new TableJobStore(table, () => now);
      const first = await createNew(store, jobRecordAt('2026-01-01T10:00:00Z'));
      const repeat: JobRecord = {
        ...first.record,
        submittedAt: '2026-01-01T10:30:00.000Z',
        updatedAt: '2026-01-01T10:30:00.000Z',
      };
      expect(await store.create(repeat)).toMatchObject({ created: false });
      const rowsOfRepeat = async () => {
        const keys: string[] = [];
        for await (const row of table.listEntities()) {
          if (
            row.rowKey?.endsWith(`-${repeat.jobId}`) &&
            row.rowKey.includes(String(9_999_999_999_999 - Date.parse(repeat.submittedAt)))
          )
            keys.push(row.rowKey);
        }
        return keys;
      };
      expect(await rowsOfRepeat()).toHaveLength(3);
      return { store, first, rowsOfRepeat };
    }

    it('are never listed, and the sweep removes them once older than its staleness', async () => {
      const { store, first, rowsOfRepeat } = await lostCreate();

      const listed = (await store.list({ limit: 10 })).jobs;
      const swept = await store.findUnfinished({ updatedBefore: now, limit: 10 });

      expect(listed).toEqual([first.record]);
      expect(swept.map((stored) => stored.record)).toEqual([first.record]);
      expect(await rowsOfRepeat()).toEqual([]);
    });

    it('are removed by retention when the job finished is removed, with its own', async () => {
      const { store, first, rowsOfRepeat } = await lostCreate();
      const completed: JobRecord = {
        ...first.record,
        status: 'Completed',
        updatedAt: '2026-01-01T11:00:00.000Z',
      };
      await store.replace(completed, first.etag);

      const finished = await store.findFinished({ updatedBefore: now, limit: 10 });
      for (const stored of finished) await store.remove(stored.record.jobId, stored.etag);

      expect(finished.map((stored) => stored.record)).toEqual([completed]);
      expect(await rowsOfRepeat()).toEqual([]);
      expect(await listAll(store, { limit: 10 })).toEqual([]);
    });
  });

  it('retention removes what a removal left of a day before its cutoff, so sweeps start from a later day', async () => {
    const outage = { on: false };
    const table = newTable([{ policy: failsIndexWrites(outage), position: 'perCall' }]);
    const store = new TableJobStore(table, () => now);
    const { record, etag } = await createNew(store, jobRecordAt('2025-12-01T10:00:00Z'));
    const completed: JobRecord = {
      ...record,
      status: 'Completed',
      updatedAt: '2025-12-01T10:05:00.000Z',
    };
    const outcome = {
      jobId: record.jobId,
      jobType: record.jobType,
      status: 'Completed' as const,
      durationMs: 5,
      errorMessage: null,
      attempt: 1,
      completedAt: '2025-12-01T10:05:00.000Z',
    };
    Object.assign(completed, { lastOutcome: outcome, outcomes: [outcome] });
    const completedEtag = await store.replace(completed, etag);
    await store.list({ limit: 1 });
    outage.on = true;
    await store.remove(record.jobId, completedEtag ?? '');
    outage.on = false;
    const leftBehind = await indexRows(table, 'index-2025-12-01');

    const first = await store.findFinished({ updatedBefore: new Date('2025-12-20T00:00:00Z'), limit: 10 });
    const afterFirst = await indexRows(table, 'index-2025-12-01');
    const second = await store.findFinished({ updatedBefore: new Date('2025-12-20T00:00:00Z'), limit: 10 });

    expect(leftBehind.length).toBeGreaterThanOrEqual(3);
    expect([first, second]).toEqual([[], []]);
    // The listing entry (its record gone) with its rows; then the rest of the day.
    expect(afterFirst.filter((rowKey) => /^\d/.test(rowKey))).toEqual([]);
    expect(await indexRows(table, 'index-2025-12-01')).toEqual([]);
  });

  describe('the stats, from minute rollups', () => {
    const window = {
      submittedSince: new Date('2026-01-01T09:00:00Z'),
      outcomesSince: new Date('2026-01-01T11:00:00Z'),
      maxEntries: 1000,
    };
    const completedAt = '2026-01-01T11:30:00.000Z';

    /**
     * Listing entries and outcome rows the stats read one by one (not versions, not rollups); `afterListingQuery`
     * runs once a query of listing entries has been answered, before the stats see the answer.
     */
    function countsRowsRead(
      counter: { rows: number },
      afterListingQuery?: () => Promise<void>,
    ): PipelinePolicy {
      return {
        name: 'countsRowsRead',
        async sendRequest(request, next) {
          const url = decodeURIComponent(request.url);
          const rowQuery = request.method === 'GET' && /RowKey ge '(\d|o\|)/.test(url);
          const response = await next(request);
          if (rowQuery)
            counter.rows += (JSON.parse(response.bodyAsText ?? '{}') as { value?: [] }).value?.length ?? 0;
          if (afterListingQuery && request.method === 'GET' && /RowKey ge '\d/.test(url))
            await afterListingQuery();
          return response;
        },
      };
    }

    async function finish(store: JobStore, stored: StoredJob): Promise<JobRecord> {
      const outcome = {
        jobId: stored.record.jobId,
        jobType: stored.record.jobType,
        status: 'Completed' as const,
        durationMs: 5,
        errorMessage: null,
        attempt: 1,
        completedAt,
      };
      const completed: JobRecord = {
        ...stored.record,
        status: 'Completed',
        attempt: 1,
        updatedAt: completedAt,
        completedAt,
        lastOutcome: outcome,
        outcomes: [outcome],
      };
      await store.replace(completed, stored.etag);
      return completed;
    }

    it('counts settled minutes once: the next reading takes them from their rollups, the same counts', async () => {
      const counter = { rows: 0 };
      const store = tableStore([{ policy: countsRowsRead(counter), position: 'perCall' }]);
      const first = await createNew(store, jobRecordAt('2026-01-01T10:00:00Z', { jobType: 'a' }));
      await createNew(store, jobRecordAt('2026-01-01T10:00:30Z', { jobType: 'a' }));
      await createNew(store, jobRecordAt('2026-01-01T10:01:00Z', { jobType: 'b' }));
      await finish(store, first);

      const counted = await store.stats(window);
      const rowsFirst = counter.rows;
      const again = await store.stats(window);

      expect(counted).toMatchObject({
        byJobType: { a: { Queued: 1, Completed: 1 }, b: { Queued: 1 } },
        jobsCounted: 3,
        outcomesByMinute: { '2026-01-01T11:30Z': { completed: 1, failed: 0, cancelled: 0 } },
      });
      expect(rowsFirst).toBe(4);
      expect(again).toEqual(counted);
      expect(counter.rows).toBe(rowsFirst);
    });

    it('a reading cut short by its bound rolls up the minutes it counted whole: the next goes on from there', async () => {
      const store = tableStore();
      for (const at of ['2026-01-01T10:01:00Z', '2026-01-01T10:02:00Z', '2026-01-01T10:03:00Z'])
        await createNew(store, jobRecordAt(at, { jobType: 'a' }));
      const bounded = { ...window, maxEntries: 2 };

      const first = await store.stats(bounded);
      const second = await store.stats(bounded);

      expect(first).toMatchObject({ byJobType: { a: { Queued: 2 } }, jobsTruncated: true });
      expect(second).toMatchObject({ byJobType: { a: { Queued: 3 } }, jobsCounted: 3, jobsTruncated: false });
    });

    it('a change to a rolled-up minute is counted at the next reading', async () => {
      const store = tableStore();
      const queued = await createNew(store, jobRecordAt('2026-01-01T10:00:00Z', { jobType: 'a' }));
      await store.stats(window);

      await finish(store, queued);

      expect(await store.stats(window)).toMatchObject({
        byJobType: { a: { Completed: 1 } },
        outcomesByMinute: { '2026-01-01T11:30Z': { completed: 1, failed: 0, cancelled: 0 } },
      });
    });

    it('a change made after the rows were counted never leaves a rollup taken for current', async () => {
      const table = newTable();
      const other = new TableJobStore(table, () => now);
      const queued = await createNew(other, jobRecordAt('2026-01-01T10:00:00Z', { jobType: 'a' }));
      let changed = false;
      const changesFirst = async () => {
        if (changed) return;
        changed = true;
        await finish(other, queued);
        await other.list({ limit: 1 });
      };
      const reader = new TableJobStore(
        TableClient.fromConnectionString(azurite.connectionString, table.tableName, {
          allowInsecureConnection: true,
          additionalPolicies: [{ policy: countsRowsRead({ rows: 0 }, changesFirst), position: 'perCall' }],
        }),
        () => now,
      );

      await reader.stats(window);
      const after = await reader.stats(window);

      expect(changed).toBe(true);
      expect(after).toMatchObject({ byJobType: { a: { Completed: 1 } }, jobsCounted: 1 });
    });
  });

  it("refuses a listing's token in a listing with other filters (it names a row of another range)", async () => {
    const store = tableStore();
    for (const at of ['2026-01-01T10:00:00Z', '2026-01-01T10:01:00Z']) {
      const { record, etag } = await createNew(store, jobRecordAt(at));
      await store.replace({ ...record, status: 'Completed' }, etag);
    }
    const { continuationToken } = await store.list({ status: 'Completed', limit: 1 });

    expect(continuationToken).toBeDefined();
    await expect(store.list({ limit: 1, continuationToken })).rejects.toBeInstanceOf(
      InvalidContinuationTokenError,
    );
    expect((await store.list({ status: 'Completed', limit: 1, continuationToken })).jobs).toHaveLength(1);
  });

  it('a listing by status reads only the records its index has in that status', async () => {
    let pointReads = 0;
    const countsPointReads: PipelinePolicy = {
      name: 'countsPointReads',
      sendRequest(request, next) {
        if (request.method === 'GET' && decodeURIComponent(request.url).includes("RowKey='job'"))
          pointReads += 1;
        return next(request);
      },
    };
    const store = tableStore([{ policy: countsPointReads, position: 'perCall' }]);
    const created = await Promise.all(
      Array.from({ length: 8 }, () => createNew(store, jobRecordAt('2026-01-01T10:00:00Z'))),
    );
    const dead: JobRecord = { ...created[3]!.record, status: 'DeadLettered' };
    await store.replace(dead, created[3]!.etag);
    pointReads = 0;

    const page = await store.list({ status: 'DeadLettered', limit: 10 });

    expect(page.jobs).toEqual([dead]);
    expect(pointReads).toBe(1);
  });

  it('follows the service through a page that ends early, empty, with a continuation token', async () => {
    // Table Storage may end a page at any point (a time limit, a partition boundary), even before any entity.
    let earlyEnds = 0;
    const endsFirstPagesEarly: PipelinePolicy = {
      name: 'endsFirstPagesEarly',
      async sendRequest(request, next) {
        const url = new URL(request.url);
        const partition = /PartitionKey eq '([^']+)'/.exec(url.searchParams.get('$filter') ?? '')?.[1];
        if (
          request.method !== 'GET' ||
          !partition?.startsWith('index-') ||
          url.searchParams.has('NextPartitionKey')
        )
          return next(request);
        // A listing that never passes the token on asks forever without yielding: fail it instead.
        earlyEnds += 1;
        if (earlyEnds > 100)
          throw new Error('the listing keeps asking for the first page, ignoring the token');
        return {
          request,
          status: 200,
          headers: createHttpHeaders({
            'content-type': 'application/json;odata=minimalmetadata',
            // Base64, as Azurite encodes the tokens it hands out.
            'x-ms-continuation-NextPartitionKey': Buffer.from(partition).toString('base64'),
          }),
          bodyAsText: '{"value":[]}',
        };
      },
    };
    const store = tableStore([{ policy: endsFirstPagesEarly, position: 'perRetry' }]);
    const records = [
      jobRecordAt('2026-01-01T10:00:00Z'),
      jobRecordAt('2026-01-01T09:00:00Z'),
      jobRecordAt('2025-12-31T09:00:00Z'),
    ];
    for (const record of records) await store.create(record);

    const listed = await listAll(store, { limit: 2 });

    expect(listed).toEqual(records.map((record) => record.jobId));
  });
});

describe.each(adapters)('JobStore contract, dashboard stats: %s', (_, createStore) => {
  let store: JobStore;

  beforeEach(() => {
    store = createStore();
  });

  const window = {
    submittedSince: new Date('2025-12-31T20:00:00Z'),
    outcomesSince: new Date('2026-01-01T11:00:00Z'),
    maxEntries: 100,
  };

  /** One attempt as the dispatcher writes it: the claim, then the outcome with the status it leads to. */
  async function runAttempt(
    stored: StoredJob,
    outcome: 'Completed' | 'Failed' | 'Poisoned',
    completedAt: string,
  ): Promise<StoredJob> {
    const attempt = stored.record.attempt + 1;
    const running: JobRecord = { ...stored.record, status: 'Running', attempt, updatedAt: completedAt };
    const claimed = await store.replace(running, stored.etag);
    const ended: JobRecord = {
      ...running,
      status: outcome === 'Completed' ? 'Completed' : outcome === 'Failed' ? 'Retrying' : 'DeadLettered',
      lastOutcome: {
        jobId: running.jobId,
        jobType: running.jobType,
        status: outcome,
        durationMs: 5,
        errorMessage: outcome === 'Completed' ? null : 'boom',
        attempt,
        completedAt,
      },
      updatedAt: completedAt,
    };
    const record = { ...ended, outcomes: [...running.outcomes, ended.lastOutcome!] };
    const etag = await store.replace(record, claimed ?? '');
    return { record, etag: etag ?? '' };
  }

  it('counts the jobs submitted since a time by job type and status, across day partitions, as they stand', async () => {
    const queued = await createNew(store, jobRecordAt('2026-01-01T11:00:00Z', { jobType: 'a' }));
    const done = await createNew(store, jobRecordAt('2026-01-01T10:00:00Z', { jobType: 'a' }));
    const poisoned = await createNew(store, jobRecordAt('2025-12-31T22:00:00Z', { jobType: 'b' }));
    await createNew(store, jobRecordAt('2025-12-31T19:59:59.999Z', { jobType: 'a' }));
    await runAttempt(done, 'Completed', '2026-01-01T10:00:05Z');
    await runAttempt(poisoned, 'Poisoned', '2025-12-31T22:00:05Z');

    const stats = await store.stats(window);

    expect(queued.record.status).toBe('Queued');
    expect(stats).toMatchObject({
      byJobType: { a: { Queued: 1, Completed: 1 }, b: { DeadLettered: 1 } },
      jobsCounted: 3,
      jobsTruncated: false,
    });
  });

  it('counts each attempt once per minute it ended in, however often its record is written after', async () => {
    const retried = await createNew(store, jobRecordAt('2026-01-01T10:50:00Z'));
    const first = await runAttempt(retried, 'Failed', '2026-01-01T11:01:10Z');
    const second = await runAttempt(first, 'Completed', '2026-01-01T11:02:30Z');
    await store.replace({ ...second.record, updatedAt: '2026-01-01T11:30:00Z' }, second.etag);
    const early = await createNew(store, jobRecordAt('2026-01-01T10:00:00Z'));
    const late = await runAttempt(early, 'Failed', '2026-01-01T10:59:59Z');
    await runAttempt(late, 'Poisoned', '2026-01-01T11:02:59Z');

    const stats = await store.stats(window);

    expect(stats.outcomesByMinute).toEqual({
      '2026-01-01T11:01Z': { completed: 0, failed: 1, cancelled: 0 },
      '2026-01-01T11:02Z': { completed: 1, failed: 1, cancelled: 0 },
    });
    expect(stats.outcomesTruncated).toBe(false);
  });

  it('counts the attempt a cancel stopped as cancelled, not failed, and the attempts before it as they ended', async () => {
    const created = await createNew(store, jobRecordAt('2026-01-01T10:50:00Z'));
    const first = await runAttempt(created, 'Failed', '2026-01-01T11:01:10Z');
    const running: JobRecord = {
      ...first.record,
      status: 'Running',
      attempt: 2,
      cancelRequestedAt: '2026-01-01T11:02:00Z',
    };
    const runningEtag = await store.replace(running, first.etag);
    const stopped = transition(
      running,
      {
        type: 'RunEnded',
        outcome: { ...first.record.lastOutcome!, attempt: 2, completedAt: '2026-01-01T11:02:01Z' },
        progress: null,
        next: { status: 'Retrying', nextAttemptAt: '2026-01-01T11:03:00Z' },
      },
      new Date('2026-01-01T11:02:01Z'),
    );
    if (!stopped.ok) throw new Error(stopped.refusal);
    await store.replace(stopped.record, runningEtag ?? '');

    const stats = await store.stats(window);

    expect(stopped.record.status).toBe('Cancelled');
    expect(stats.outcomesByMinute).toEqual({
      '2026-01-01T11:01Z': { completed: 0, failed: 1, cancelled: 0 },
      '2026-01-01T11:02Z': { completed: 0, failed: 0, cancelled: 1 },
    });
  });

  it('counts the DeadLettered jobs whose dead-lettered message was discarded', async () => {
    const discardAction = (sequenceNumber: string) => ({
      action: 'Discarded' as const,
      at: '2026-01-01T11:10:00Z',
      sequenceNumber,
      reason: 'Poisoned',
      payloadCorrected: false,
    });
    const kept = await runAttempt(
      await createNew(store, jobRecordAt('2026-01-01T11:00:00Z')),
      'Poisoned',
      '2026-01-01T11:00:05Z',
    );
    const discarded = await runAttempt(
      await createNew(store, jobRecordAt('2026-01-01T11:01:00Z')),
      'Poisoned',
      '2026-01-01T11:01:05Z',
    );
    await store.replace({ ...discarded.record, deadLetterActions: [discardAction('2')] }, discarded.etag);

    const stats = await store.stats(window);

    expect(kept.record.status).toBe('DeadLettered');
    expect(stats).toMatchObject({
      byJobType: { 'diagnostics.simulate': { DeadLettered: 2 } },
      deadLetteredDiscarded: 1,
    });
  });

  it('reads at most maxEntries of each, the newest, and says so', async () => {
    let last: StoredJob | undefined;
    for (const minute of [1, 2, 3]) {
      const created = await createNew(
        store,
        jobRecordAt(`2026-01-01T11:0${minute}:00Z`, { jobType: `t${minute}` }),
      );
      last = await runAttempt(created, 'Failed', `2026-01-01T11:1${minute}:00Z`);
    }

    const stats = await store.stats({ ...window, maxEntries: 2 });

    expect(last).toBeDefined();
    expect(stats).toEqual({
      byJobType: { t3: { Retrying: 1 }, t2: { Retrying: 1 } },
      jobsCounted: 2,
      jobsTruncated: true,
      deadLetteredDiscarded: 0,
      outcomesByMinute: {
        '2026-01-01T11:13Z': { completed: 0, failed: 1, cancelled: 0 },
        '2026-01-01T11:12Z': { completed: 0, failed: 1, cancelled: 0 },
      },
      outcomesTruncated: true,
    });
  });

  it('stops counting a job and its attempts once it is removed', async () => {
    const created = await createNew(store, jobRecordAt('2026-01-01T11:00:00Z'));
    const done = await runAttempt(created, 'Completed', '2026-01-01T11:05:00Z');

    await store.remove(done.record.jobId, done.etag);

    expect(await store.stats(window)).toEqual({
      byJobType: {},
      jobsCounted: 0,
      jobsTruncated: false,
      deadLetteredDiscarded: 0,
      outcomesByMinute: {},
      outcomesTruncated: false,
    });
  });
});
