import { randomUUID } from 'node:crypto';
import type {
  TableClient,
  TableEntity,
  TableEntityResult,
  TableEntityResultPage,
  TransactionAction,
} from '@azure/data-tables';
import { odata } from '@azure/data-tables';
import { z } from 'zod';
import { InfrastructureError, InvalidContinuationTokenError, errorMessage } from '../jobs/errors';
import type { JobRecord, JobStatus } from '../jobs/model/jobRecord';
import { jobRecordSchema } from '../jobs/model/jobRecord';
import type {
  CreateJobResult,
  JobListPage,
  JobListQuery,
  JobStore,
  StoredJob,
  JobAgeQuery,
  NewJob,
} from '../jobs/ports/jobStore';
import { terminalJobStatuses } from '../jobs/model/jobRecord';
import { mapLimited } from '../jobs/support/mapLimited';
import { decodeListingToken, encodeListingToken } from './listingToken';
import type { JobStatsQuery, JobStatsSnapshot } from '../jobs/model/jobStats';
import {
  addJob,
  addOutcome,
  countableOutcome,
  isDiscardedDeadLetter,
  outcomeKey,
} from '../jobs/model/jobStats';

const recordRowKey = 'job';
const indexPartitionPrefix = 'index-';
// Newest first in Table Storage's ascending key order: the row key counts down from the end of time.
const maxTimestampMs = 9_999_999_999_999;
const defaultListDays = 30;
// A body may be up to 256 KB and a binary property holds at most 64 KiB: it takes several. Binary, not string
// properties: UTF-8 bytes cut anywhere rejoin exactly, and base64 on the wire is plain ASCII (Azurite garbles a
// multi-byte character that straddles two chunks of a large request body).
const bodyPartBytes = 64_000;
// One listing call reads at most this many index pages, then hands back a token: a listing over days of empty or
// filtered-out partitions answers within a bounded time, and the caller pages on.
const maxIndexPagesPerList = 40;
// The sweep reads whole records, bodies included; pages this size keep one response small.
const maxUnfinishedPageSize = 100;
// Stats read projected entries (two or three short properties): the service's largest page.
const maxStatsPageSize = 1000;
const outcomePartitionPrefix = 'outcomes-';
// Outcome partitions count down in minutes, as index rows do in milliseconds, so a range reads the newest first.
const maxMinute = 99_999_999;
const minuteMs = 60_000;
// A batch's commit: one entity group transaction in one of these partitions (the batch id picks it, so no partition
// runs hot), a row per job keyed `<jobId>_<batchId>`; the per-job records are written from it.
const outboxPartitionPrefix = 'outbox-';
// Just past every outbox partition key in Table Storage's order ('.' follows '-').
const outboxPartitionEnd = 'outbox.';
// Records of one batch written at once, at most (a batch of 100 would otherwise wait 100 round trips).
const createConcurrency = 16;

/**
 * The record entity's properties: `record` holds the whole record as JSON (validated on every read); `status`,
 * `jobType` and `updatedAt` copy fields of it for server-side filters; `writeId` names the write that stored it;
 * `bodyParts` and `body0`… hold the message body (UTF-8 bytes), when there is one.
 */
type EntityProperties = Record<string, unknown>;

/** One attempt's outcome, for the per-minute stats: partitioned by the minute it ended in, newest first. */
interface OutcomeEntity {
  partitionKey: string;
  rowKey: string;
  status: string;
  jobType: string;
  /** The minute, as `minuteKey` writes it. */
  minute: string;
  completedAt: Date;
}

interface IndexEntity {
  partitionKey: string;
  rowKey: string;
  jobId: string;
  jobType: string;
  status: string;
  /** Present (true) on a DeadLettered job whose message was discarded (`isDiscardedDeadLetter`), for the stats. */
  discarded?: boolean;
}

type IndexPage = TableEntityResultPage<IndexEntity>;

/**
 * Job records on Azure Table Storage. A record is one entity keyed by jobId (point reads, conditional writes on its
 * ETag), the message body split across properties beside it. Listing newest first reads a per-day index partition
 * whose row keys count down in time; each entry carries the job's status, for filtered listings.
 *
 * For the dashboard's stats, each write that ends an attempt also upserts an outcome entry in a per-minute partition
 * (keyed by the attempt, so written again it counts once), and the stats read index entries and outcome entries
 * with projections, never records.
 *
 * A batch of jobs is committed first as one entity group transaction of outbox rows (atomic: all or none), then
 * each job's record is written from its row, and the rows are removed. Until its record is written (the writer died
 * in between), reading a job by id finds its row and writes the record; the sweep (`findUnfinished`) writes the
 * records of rows left behind. A lost answer to the commit is settled by a tombstone on the batch's first row key:
 * if the tombstone goes in, the commit can never apply.
 *
 * The record entity is written first and is the truth. An index entry is written after it, best effort: a failed
 * index write fails nothing, since every later `replace` writes the entry whole again and the listing checks each
 * entry against its record. Until then a listing may miss the job, or skip an entry whose status is stale; it never
 * shows a job twice or in a status it is not in.
 */
export class TableJobStore implements JobStore {
  private tableReady: Promise<void> | undefined;
  /**
   * One id per record object written, stored beside it (`writeId`): a write that comes back 409/412 reads it to
   * tell its own applied write (the driver's retry, or ours with the same object) from another writer's.
   */
  private readonly writeIds = new WeakMap<JobRecord, string>();

  constructor(
    private readonly table: TableClient,
    private readonly now: () => Date = () => new Date(),
    private readonly listDays: number = defaultListDays,
    private readonly callTimeoutMs = 10_000,
  ) {}

  /**
   * A time budget per call, retries included: an endpoint that accepts connections but never answers must not hold
   * a job or a caller forever. (An abort signal, not the request timeout option: after a refused connection the
   * SDK leaves that option's timer running.)
   */
  private get call(): { abortSignal: AbortSignal } {
    return { abortSignal: AbortSignal.timeout(this.callTimeoutMs) };
  }

  async create(record: JobRecord, body?: string): Promise<CreateJobResult> {
    await this.ensureTable();
    // A second try only for a job removed between our conflict and our read of it.
    for (let attempt = 1; attempt <= 2; attempt += 1) {
      try {
        const created = await this.table.createEntity(
          toRecordEntity(record, this.writeIdOf(record), body),
          this.call,
        );
        await this.writeIndexEntry(record);
        return { created: true, stored: storedJob(record, created.etag ?? '', body) };
      } catch (error) {
        if (statusOf(error) !== 409) {
          // No answer to an insert the SDK tried more than once: any of the tries may have applied.
          if (!mayHaveApplied(error)) throw unavailable('create', error);
          throw new InfrastructureError(
            'StoreUnavailable',
            `Table Storage did not answer whether job ${record.jobId} was recorded: ${errorMessage(error)}`,
            { cause: error, outcomeUnknown: true },
          );
        }
      }
      const existing = await this.readEntity(record.jobId);
      if (!existing) continue;
      const stored = toStoredJob(existing);
      if (existing['writeId'] !== this.writeIdOf(record)) return { created: false, existing: stored };
      // Our own insert (its answer lost, the SDK's retry refused): its index entry may be missing still.
      await this.writeIndexEntry(record);
      return { created: true, stored };
    }
    throw new InfrastructureError('StoreUnavailable', `Job ${record.jobId} conflicted but cannot be read.`);
  }

  async createAll(jobs: readonly NewJob[]): Promise<CreateJobResult[]> {
    // One insert is atomic by itself.
    const [only] = jobs;
    if (only && jobs.length === 1) return [await this.create(only.record, only.body)];
    if (jobs.length === 0) return [];
    await this.ensureTable();
    const batchId = randomUUID();
    const partitionKey = `${outboxPartitionPrefix}${batchId.charAt(0)}`;
    const rows = jobs.map(({ record, body }) => ({
      partitionKey,
      rowKey: `${record.jobId}_${batchId}`,
      record: JSON.stringify(record),
      writeId: this.writeIdOf(record),
      ...bodyProperties(body),
    }));
    await this.commit(rows);
    // Committed: every job is promised. A record that cannot be written now is reported with an empty ETag, and is
    // written from its row by the first read of it or by the sweep.
    const results = await mapLimited(jobs, createConcurrency, ({ record, body }) =>
      this.create(record, body).catch((): CreateJobResult => ({
        created: true,
        stored: storedJob(record, '', body),
      })),
    );
    if (results.every((result) => !result.created || result.stored.etag !== '')) {
      await this.table
        .submitTransaction(
          rows.map((row): TransactionAction => ['delete', row]),
          this.call,
        )
        .catch(() => undefined);
    }
    return results;
  }

  /** The batch's rows, all or none; throws when they are not, or when it cannot be known. */
  private async commit(rows: readonly TableEntity<EntityProperties>[]): Promise<void> {
    let failure: unknown;
    try {
      await this.table.submitTransaction(
        rows.map((row): TransactionAction => ['create', row]),
        this.call,
      );
      return;
    } catch (error) {
      // The row keys are this batch's alone: a conflict is our own commit, applied, its answer lost and retried.
      if (statusOf(error) === 409) return;
      // Any other answer from the service, or no connection at all: the transaction was not applied.
      if (!mayHaveApplied(error)) throw unavailable('commit', error);
      failure = error;
    }
    // No answer: the commit may be under way still. A tombstone on its first row key decides it one way for good.
    const first = rows[0] as TableEntity<EntityProperties>;
    try {
      await this.table.createEntity(
        { partitionKey: first.partitionKey, rowKey: first.rowKey, tombstone: true },
        this.call,
      );
    } catch (error) {
      if (statusOf(error) === 409) {
        const row = await this.readRow(first.partitionKey, first.rowKey).catch(() => undefined);
        if (row && row['tombstone'] !== true) return;
        if (row) throw unavailable('commit', failure);
      }
      throw new InfrastructureError(
        'StoreUnavailable',
        'Table Storage did not answer whether the jobs were recorded; submit them again with the same ' +
          `idempotency keys to find out (${errorMessage(failure)}).`,
        { cause: failure, outcomeUnknown: true },
      );
    }
    throw unavailable('commit', failure);
  }

  async get(jobId: string): Promise<StoredJob | undefined> {
    await this.ensureTable();
    const entity = await this.readEntity(jobId);
    return entity ? toStoredJob(entity) : this.fromOutbox(jobId);
  }

  /** A job whose batch committed but whose record is not written yet: written now, from its outbox row. */
  private async fromOutbox(jobId: string): Promise<StoredJob | undefined> {
    // Any row of the job, in any batch (one is enough); not a tombstone, which is filtered here: Table Storage finds
    // no match for a comparison with a property an entity does not have.
    const rows = await this.readPage<EntityProperties>(
      [
        odata`PartitionKey ge ${outboxPartitionPrefix}`,
        odata`PartitionKey lt ${outboxPartitionEnd}`,
        odata`RowKey gt ${`${jobId}_`}`,
        odata`RowKey lt ${`${jobId}\``}`,
      ].join(' and '),
      { maxPageSize: 10, continuationToken: undefined },
    );
    const row = rows.find((candidate) => candidate['tombstone'] !== true);
    if (row) {
      const written = await this.writeFromOutbox(row);
      return written.created ? written.stored : written.existing;
    }
    // The record may have been written, and its row removed, since the first read.
    const entity = await this.readEntity(jobId);
    return entity && toStoredJob(entity);
  }

  /** Writes the record of an outbox row (as the batch's writer would have: same write id), then removes the row. */
  private async writeFromOutbox(row: TableEntityResult<EntityProperties>): Promise<CreateJobResult> {
    const record = parseRecord(recordTextOf(row));
    if (typeof row['writeId'] === 'string') this.writeIds.set(record, row['writeId']);
    const written = await this.create(record, bodyOf(row));
    await this.deleteRow(row);
    return written;
  }

  /** Best effort: a row left behind is written again (a no-op) and removed by a later sweep. */
  private async deleteRow(row: TableEntityResult<EntityProperties>): Promise<void> {
    await this.table.deleteEntity(row.partitionKey ?? '', row.rowKey ?? '', this.call).catch(() => undefined);
  }

  async replace(record: JobRecord, etag: string): Promise<string | undefined> {
    // An empty ETag would make the write unconditional; it names no version (see `createAll`).
    if (etag === '') return undefined;
    await this.ensureTable();
    let newEtag: string;
    try {
      // Merge, not Replace: the body's properties stay as they are.
      const updated = await this.table.updateEntity(toRecordEntity(record, this.writeIdOf(record)), 'Merge', {
        ...this.call,
        etag,
      });
      newEtag = updated.etag ?? '';
    } catch (error) {
      const status = statusOf(error);
      if (status === 404) return undefined;
      if (status !== 412) throw unavailable('update', error);
      const current = await this.readEntity(record.jobId, ['writeId']);
      if (!current || current['writeId'] !== this.writeIdOf(record)) return undefined;
      newEtag = current.etag;
    }
    await this.writeIndexEntry(record);
    return newEtag;
  }

  async remove(jobId: string, etag: string): Promise<boolean> {
    await this.ensureTable();
    // Read first: the index entry's keys come from the record.
    const current = await this.readEntity(jobId, ['record']);
    if (!current) return true;
    if (current.etag !== etag) return false;
    try {
      await this.table.deleteEntity(jobId, recordRowKey, { ...this.call, etag });
    } catch (error) {
      const status = statusOf(error);
      if (status === 412) return false;
      // 404: gone already, by another remover or by our own delete whose answer was lost.
      if (status !== 404) throw unavailable('delete', error);
    }
    // Best effort: a left-over entry is skipped by the listing, whose record is missing or is not the entry's. The
    // outcomes the stats count go with the job (older ones than the record keeps stay, and age out of the window).
    const removed = parseRecord(recordTextOf(current));
    await Promise.all(
      [indexKeys(removed), ...removed.outcomes.map((outcome) => outcomeKeys(removed.jobId, outcome))].map(
        (keys) => this.table.deleteEntity(...keys, this.call).catch(() => undefined),
      ),
    );
    return true;
  }

  async list({ status, jobType, limit, continuationToken }: JobListQuery): Promise<JobListPage> {
    await this.ensureTable();
    const given =
      continuationToken === undefined ? undefined : decodeListingToken(continuationToken, listCursorSchema);
    let cursor = given ?? this.firstCursor();
    const jobs: JobRecord[] = [];
    for (
      let pages = 0;
      jobs.length < limit && cursor.daysLeft > 0 && pages < maxIndexPagesPerList;
      pages += 1
    ) {
      // No more entries than jobs still wanted, so a page is always taken whole and the service's token (past the
      // page) is where the next one starts.
      const page = await this.readIndexPage(cursor, status, jobType, limit - jobs.length).catch(
        (error: unknown) => {
          // The service's own refusal of keys a caller's token carried: that token was not the service's.
          if (pages === 0 && given?.serviceToken && statusOf((error as Error).cause) === 400)
            throw new InvalidContinuationTokenError();
          throw error;
        },
      );
      const records = await Promise.all(page.map((entry) => this.listedRecord(entry)));
      for (const record of records) {
        // The index's status may be stale (its write failed or was overtaken): the record's is the one that counts.
        if (record && (!status || record.status === status) && (!jobType || record.jobType === jobType))
          jobs.push(record);
      }
      const last = page.at(-1);
      if (last) cursor = { ...cursor, after: last.rowKey };
      const serviceToken = page.continuationToken;
      // The service may end a page early, even empty, with a token: only a page without one (or with the token it
      // was given, which would not move on) ends the day.
      cursor =
        serviceToken && serviceToken !== cursor.serviceToken
          ? { ...cursor, serviceToken }
          : previousDay(cursor);
    }
    return { jobs, continuationToken: cursor.daysLeft > 0 ? encodeCursor(cursor) : undefined };
  }

  async findUnfinished({ updatedBefore, limit }: JobAgeQuery): Promise<StoredJob[]> {
    await this.sweepOutbox(updatedBefore, limit);
    const unfinished = terminalJobStatuses.map((status) => odata`status ne ${status}`).join(' and ');
    return this.findRecords(updatedBefore, unfinished, limit);
  }

  async findFinished({ updatedBefore, limit }: JobAgeQuery): Promise<StoredJob[]> {
    const finished = terminalJobStatuses.map((status) => odata`status eq ${status}`).join(' or ');
    // The record only: retention removes the entity, bodies and all, and never needs to read them.
    return this.findRecords(updatedBefore, `(${finished})`, limit, ['record']);
  }

  /**
   * Records last changed before `updatedBefore` whose status passes `statusFilter`, at most `limit`. The record
   * entities, not the index: the record is written first and is the truth when an index write failed.
   */
  private async findRecords(
    updatedBefore: Date,
    statusFilter: string,
    limit: number,
    select?: string[],
  ): Promise<StoredJob[]> {
    if (limit < 1) return [];
    await this.ensureTable();
    const filter = [
      odata`RowKey eq ${recordRowKey}`,
      odata`updatedAt lt ${updatedBefore}`,
      statusFilter,
    ].join(' and ');
    const found: StoredJob[] = [];
    let continuationToken: string | undefined;
    do {
      const page = await this.readPage<EntityProperties>(
        filter,
        { maxPageSize: Math.min(limit - found.length, maxUnfinishedPageSize), continuationToken },
        select,
      );
      found.push(...page.slice(0, limit - found.length).map(toStoredJob));
      continuationToken = page.continuationToken;
    } while (continuationToken && found.length < limit);
    return found;
  }

  /**
   * Writes the records of outbox rows committed before `before` whose writer died before writing them, and removes
   * the tombstones of commits that never applied (long after any such commit could still be under way: a call is
   * bounded by its time budget, and a sweep looks only at what is older than the reconciler's staleness).
   */
  private async sweepOutbox(before: Date, limit: number): Promise<void> {
    await this.ensureTable();
    const rows = await this.readPage<EntityProperties>(
      [
        odata`PartitionKey ge ${outboxPartitionPrefix}`,
        odata`PartitionKey lt ${outboxPartitionEnd}`,
        odata`Timestamp lt ${before}`,
      ].join(' and '),
      { maxPageSize: Math.min(limit, maxUnfinishedPageSize), continuationToken: undefined },
    );
    await mapLimited(rows, createConcurrency, async (row) => {
      if (row['tombstone'] !== true) await this.writeFromOutbox(row);
      else await this.deleteRow(row);
    });
  }

  async stats({ submittedSince, outcomesSince, maxEntries }: JobStatsQuery): Promise<JobStatsSnapshot> {
    await this.ensureTable();
    const [jobs, outcomes] = await Promise.all([
      this.countJobs(submittedSince, maxEntries),
      this.countOutcomes(outcomesSince, maxEntries),
    ]);
    return { ...jobs, ...outcomes };
  }

  /** The listing index's entries since `since`, day partition by day, newest first: status, type, discarded. */
  private async countJobs(
    since: Date,
    maxEntries: number,
  ): Promise<
    Pick<JobStatsSnapshot, 'byJobType' | 'jobsCounted' | 'jobsTruncated' | 'deadLetteredDiscarded'>
  > {
    const byJobType: JobStatsSnapshot['byJobType'] = {};
    let deadLetteredDiscarded = 0;
    // Entries submitted at or after `since` have a countdown up to its own: row keys below the next one.
    const before = String(maxTimestampMs - since.getTime() + 1).padStart(13, '0');
    const last = indexPartition(since);
    let counted = 0;
    let partition = indexPartition(this.now());
    for (let day = 0; partition >= last && day <= this.listDays; day += 1) {
      const filter = `${odata`PartitionKey eq ${partition}`} and ${odata`RowKey lt ${before}`}`;
      let continuationToken: string | undefined;
      do {
        const page = await this.readPage<IndexEntity>(
          filter,
          { maxPageSize: Math.min(maxStatsPageSize, maxEntries - counted + 1), continuationToken },
          ['jobType', 'status', 'discarded'],
        );
        for (const entry of page) {
          if (counted === maxEntries)
            return { byJobType, jobsCounted: counted, jobsTruncated: true, deadLetteredDiscarded };
          const status = jobRecordSchema.shape.status.safeParse(entry.status);
          if (!status.success) continue;
          addJob(byJobType, entry.jobType, status.data);
          if (status.data === 'DeadLettered' && entry.discarded === true) deadLetteredDiscarded += 1;
          counted += 1;
        }
        continuationToken = page.continuationToken;
      } while (continuationToken);
      partition = previousDay({ partition, after: '', daysLeft: 1 }).partition;
    }
    return { byJobType, jobsCounted: counted, jobsTruncated: false, deadLetteredDiscarded };
  }

  /** The outcome entries since `since`: one range over the minute partitions, newest minute first. */
  private async countOutcomes(
    since: Date,
    maxEntries: number,
  ): Promise<Pick<JobStatsSnapshot, 'outcomesByMinute' | 'outcomesTruncated'>> {
    const outcomesByMinute: JobStatsSnapshot['outcomesByMinute'] = {};
    const filter = [
      odata`PartitionKey gt ${outcomePartitionPrefix}`,
      odata`PartitionKey le ${outcomePartition(since)}`,
      odata`completedAt ge ${since}`,
    ].join(' and ');
    let counted = 0;
    let continuationToken: string | undefined;
    do {
      const page = await this.readPage<OutcomeEntity>(
        filter,
        { maxPageSize: Math.min(maxStatsPageSize, maxEntries - counted + 1), continuationToken },
        ['minute', 'status'],
      );
      for (const entry of page) {
        if (counted === maxEntries) return { outcomesByMinute, outcomesTruncated: true };
        addOutcome(outcomesByMinute, entry.minute, entry.status);
        counted += 1;
      }
      continuationToken = page.continuationToken;
    } while (continuationToken);
    return { outcomesByMinute, outcomesTruncated: false };
  }

  private writeIdOf(record: JobRecord): string {
    let writeId = this.writeIds.get(record);
    if (writeId === undefined) {
      writeId = randomUUID();
      this.writeIds.set(record, writeId);
    }
    return writeId;
  }

  private async readRow(
    partitionKey: string,
    rowKey: string,
    select?: string[],
  ): Promise<TableEntityResult<EntityProperties> | undefined> {
    try {
      return await this.table.getEntity<EntityProperties>(partitionKey, rowKey, {
        ...this.call,
        ...(select && { queryOptions: { select } }),
      });
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw unavailable('read', error);
    }
  }

  private ensureTable(): Promise<void> {
    this.tableReady ??= this.table.createTable(this.call).catch((error: unknown) => {
      this.tableReady = undefined;
      throw unavailable('create table', error);
    });
    return this.tableReady;
  }

  private readEntity(
    jobId: string,
    select?: string[],
  ): Promise<TableEntityResult<EntityProperties> | undefined> {
    return this.readRow(jobId, recordRowKey, select);
  }

  /** One page of a query, with its own time budget: a long scan is many calls, each bounded. */
  private async readPage<T extends object>(
    filter: string,
    { maxPageSize, continuationToken }: { maxPageSize: number; continuationToken: string | undefined },
    select?: string[],
  ): Promise<TableEntityResultPage<T>> {
    try {
      const page = await this.table
        .listEntities<T>({ ...this.call, queryOptions: { filter, ...(select && { select }) } })
        .byPage({ maxPageSize, continuationToken })
        .next();
      return page.done ? Object.assign([], { continuationToken: undefined }) : page.value;
    } catch (error) {
      throw unavailable('query', error);
    }
  }

  private readIndexPage(
    cursor: ListCursor,
    status: JobStatus | undefined,
    jobType: string | undefined,
    maxPageSize: number,
  ): Promise<IndexPage> {
    const filter = [
      odata`PartitionKey eq ${cursor.partition}`,
      odata`RowKey gt ${cursor.after}`,
      ...(status ? [odata`status eq ${status}`] : []),
      ...(jobType ? [odata`jobType eq ${jobType}`] : []),
    ].join(' and ');
    return this.readPage<IndexEntity>(filter, { maxPageSize, continuationToken: cursor.serviceToken });
  }

  /** The entry's record, unless it is gone or is another job's by now (an entry left by a removed job). */
  private async listedRecord(entry: IndexEntity): Promise<JobRecord | undefined> {
    const entity = await this.readEntity(entry.jobId, ['record']);
    if (!entity) return undefined;
    const record = parseRecord(recordTextOf(entity));
    const [partitionKey, rowKey] = indexKeys(record);
    return partitionKey === entry.partitionKey && rowKey === entry.rowKey ? record : undefined;
  }

  /**
   * Written whole, so any write repairs an entry a failed one left missing or stale; with it, the entry the stats
   * count the attempt that ended last by (the same entry again on later writes: counted once).
   */
  private async writeIndexEntry(record: JobRecord): Promise<void> {
    // Never fails the write it follows: the record is already stored, and the listing checks entries against it.
    const outcome = countableOutcome(record);
    await Promise.all([
      this.table.upsertEntity(toIndexEntity(record), 'Replace', this.call).catch(() => undefined),
      outcome &&
        this.table
          .upsertEntity<OutcomeEntity>(
            {
              partitionKey: outcomePartition(new Date(outcome.completedAtMs)),
              rowKey: outcome.key,
              status: outcome.status,
              jobType: outcome.jobType,
              minute: outcome.minute,
              completedAt: new Date(outcome.completedAtMs),
            },
            'Replace',
            this.call,
          )
          .catch(() => undefined),
    ]);
  }

  private firstCursor(): ListCursor {
    return { partition: indexPartition(this.now()), after: '', daysLeft: this.listDays };
  }
}

// The SDK's continuation token is base64 JSON naming the service's next keys (opaque: Azure encodes them); a token
// that is not one would fail inside the SDK, so a listing token carrying one is refused instead. Keys the service
// itself refuses are caught where the page is read.
const serviceTokenKeysSchema = z.object({
  nextPartitionKey: z.string().min(1).max(1024),
  nextRowKey: z.string().max(1024).optional(),
});
const serviceTokenSchema = z
  .string()
  .max(3000)
  .refine(
    (token) =>
      serviceTokenKeysSchema.safeParse(parseJsonOrUndefined(Buffer.from(token, 'base64').toString())).success,
  );

/** Where a listing goes on: the day's index partition, the last row listed in it, the days left to look back. */
const listCursorSchema = z.strictObject({
  partition: z
    .string()
    .regex(/^index-\d{4}-\d{2}-\d{2}$/)
    .refine((partition) => isCalendarDay(partition.slice(indexPartitionPrefix.length))),
  after: z.string().regex(/^[0-9a-f-]{0,64}$/),
  daysLeft: z.int().min(1).max(3660),
  serviceToken: serviceTokenSchema.optional(),
});
type ListCursor = z.output<typeof listCursorSchema>;

function toRecordEntity(record: JobRecord, writeId: string, body?: string): TableEntity<EntityProperties> {
  return {
    partitionKey: record.jobId,
    rowKey: recordRowKey,
    record: JSON.stringify(record),
    writeId,
    status: record.status,
    jobType: record.jobType,
    // A date, not the record's text: timestamps with offsets or other precisions would not compare as text.
    updatedAt: new Date(record.updatedAt),
    ...(body === undefined ? {} : bodyProperties(body)),
  };
}

function bodyProperties(body: string): EntityProperties {
  const bytes = Buffer.from(body, 'utf8');
  const parts: Uint8Array[] = [];
  for (let start = 0; start < bytes.length; start += bodyPartBytes)
    parts.push(bytes.subarray(start, start + bodyPartBytes));
  return Object.fromEntries([
    ['bodyParts', parts.length],
    ...parts.map((part, index) => [`body${index}`, part]),
  ]);
}

function bodyOf(entity: EntityProperties): string | undefined {
  const count = entity['bodyParts'];
  if (typeof count !== 'number') return undefined;
  const parts = Array.from({ length: count }, (_, index) => entity[`body${index}`]);
  if (!parts.every((part): part is Uint8Array => part instanceof Uint8Array)) return undefined;
  return Buffer.concat(parts).toString('utf8');
}

function toStoredJob(entity: TableEntityResult<EntityProperties>): StoredJob {
  return storedJob(parseRecord(recordTextOf(entity)), entity.etag, bodyOf(entity));
}

function storedJob(record: JobRecord, etag: string, body: string | undefined): StoredJob {
  return body === undefined ? { record, etag } : { record, etag, body };
}

/** The record's JSON exactly as stored. */
function recordTextOf(entity: TableEntityResult<EntityProperties>): string {
  const text = entity['record'];
  if (typeof text !== 'string')
    throw new Error(`The entity of job ${entity.partitionKey ?? '?'} holds no record.`);
  return text;
}

function toIndexEntity(record: JobRecord): IndexEntity {
  const [partitionKey, rowKey] = indexKeys(record);
  return {
    partitionKey,
    rowKey,
    jobId: record.jobId,
    jobType: record.jobType,
    status: record.status,
    ...(isDiscardedDeadLetter(record) && { discarded: true }),
  };
}

function indexKeys(record: JobRecord): [string, string] {
  const submitted = new Date(record.submittedAt);
  const countdown = String(maxTimestampMs - submitted.getTime()).padStart(13, '0');
  return [indexPartition(submitted), `${countdown}-${record.jobId}`];
}

function outcomePartition(at: Date): string {
  const countdown = maxMinute - Math.floor(at.getTime() / minuteMs);
  return `${outcomePartitionPrefix}${String(countdown).padStart(8, '0')}`;
}

function outcomeKeys(jobId: string, outcome: JobRecord['outcomes'][number]): [string, string] {
  return [
    outcomePartition(new Date(outcome.completedAt)),
    outcomeKey(jobId, outcome.completedAt, outcome.attempt),
  ];
}

function indexPartition(date: Date): string {
  return `${indexPartitionPrefix}${date.toISOString().slice(0, 10)}`;
}

function previousDay(cursor: ListCursor): ListCursor {
  const day = new Date(`${cursor.partition.slice(indexPartitionPrefix.length)}T00:00:00Z`);
  day.setUTCDate(day.getUTCDate() - 1);
  return { partition: indexPartition(day), after: '', daysLeft: cursor.daysLeft - 1 };
}

function encodeCursor(cursor: ListCursor): string {
  return encodeListingToken(cursor);
}

function isCalendarDay(day: string): boolean {
  const date = new Date(`${day}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === day;
}

function parseJsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function parseRecord(json: string): JobRecord {
  return jobRecordSchema.parse(JSON.parse(json));
}

function statusOf(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null && 'statusCode' in error
    ? (error as { statusCode?: number }).statusCode
    : undefined;
}

/** A write that failed with no answer from the service, over a connection that was made: it may have applied. */
function mayHaveApplied(error: unknown): boolean {
  return statusOf(error) === undefined && (error as { code?: unknown } | null)?.code !== 'ECONNREFUSED';
}

function unavailable(operation: string, error: unknown): InfrastructureError {
  return new InfrastructureError(
    'StoreUnavailable',
    `Table Storage ${operation} failed: ${errorMessage(error)}`,
    {
      cause: error,
    },
  );
}
