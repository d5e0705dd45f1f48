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
import { idleSinceMs, isTerminalJobStatus } from '../jobs/model/jobRecord';
import { mapLimited } from '../jobs/support/mapLimited';
import { decodeListingToken, encodeListingToken } from './listingToken';
import type { JobStatsQuery, JobStatsSnapshot } from '../jobs/model/jobStats';
import { EntityGroupWriter } from './entityGroupWriter';
import type { RowWrite } from './entityGroupWriter';
import type { IndexRowReader } from './minuteRollups';
import { tableJobStats } from './tableJobStats';
import type { IndexEntity, IndexedJob } from './tableIndexRows';
import type { RowRange } from './rowRange';
import { rangeFilter } from './rowRange';
import {
  inRange,
  indexAddress,
  indexPartition,
  indexPartitions,
  indexRemovals,
  indexWrites,
  indexedJobOf,
  isIndexPartition,
  jobTypeRange,
  listingKeyBefore,
  listingRange,
  nextDay,
  statusRange,
  suffixOf,
  unfinishedRange,
} from './tableIndexRows';
import { statusOf } from './statusOf';

const recordRowKey = 'job';
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
// The days a sweep walks, at most: far beyond any retention, a bound should the oldest partition be garbage.
const maxIndexDays = 3660;
// A batch's commit: one entity group transaction in one of these partitions (the batch id picks it, so no partition
// runs hot), a row per job keyed `<jobId>_<batchId>`; the per-job records are written from it.
const outboxPartitionPrefix = 'outbox-';
// Just past every outbox partition key in Table Storage's order ('.' follows '-').
const outboxPartitionEnd = 'outbox.';
// How long the index rows of an unfinished job's write wait for more (listings and stats in this process send them
// at once): the claim's rows are then written with its result's, when the job runs no longer than this.
const unfinishedIndexLingerMs = 1_000;
// Records a sweep reads or writes at once, at most.
const sweepConcurrency = 16;

/**
 * The record entity's properties: `record` holds the whole record as JSON (validated on every read); `status`,
 * `jobType` and `updatedAt` copy fields of it for an operator's queries (Storage Explorer; the store's own go by
 * the index); `writeId` names the write that stored it;
 * `bodyParts` and `body0`… hold the message body (UTF-8 bytes), when there is one.
 */
type EntityProperties = Record<string, unknown>;

type IndexPage = TableEntityResultPage<IndexEntity>;

/**
 * Job records on Azure Table Storage. A record is one entity keyed by jobId (point reads, conditional writes on its
 * ETag), the message body split across properties beside it. Listing newest first reads a per-day index partition
 * whose row keys count down in time; each entry carries the job's status, for filtered listings.
 *
 * For the dashboard's stats, each write that ends an attempt also writes an outcome row keyed by the attempt (so
 * written again it counts once), and the stats read minute rollups where they are current and index rows where they
 * are not (`tableJobStats`), never records.
 *
 * A batch of jobs is committed first as one entity group transaction of outbox rows (atomic: all or none), then
 * each job's record is written from its row, and the rows are removed. Until its record is written (the writer died
 * in between), reading a job by id finds its row and writes the record; the sweep (`findUnfinished`) writes the
 * records of rows left behind. A lost answer to the commit is settled by a tombstone on the batch's first row key:
 * if the tombstone goes in, the commit can never apply.
 *
 * The record is the truth. A job's index rows (`tableIndexRows`: listing entry, by type, unfinished, by status,
 * outcomes) are written together in entity group transactions of its submission day's partition: before the record
 * at create, so that every unfinished record has the `u|` row the sweep reads; behind every later write, not waited
 * for, many jobs a transaction (`EntityGroupWriter`). A lost one leaves the `u|` row, and the sweep writes the index
 * again from the record. A listing checks each entry against its record: it may miss a job for a moment, or skip
 * an entry whose status is stale; it never shows a job twice or in a status it is not in.
 */
export class TableJobStore implements JobStore {
  private tableReady: Promise<void> | undefined;
  /**
   * One id per record object written, stored beside it (`writeId`): a write that comes back 409/412 reads it to
   * tell its own applied write (the driver's retry, or ours with the same object) from another writer's.
   */
  private readonly writeIds = new WeakMap<JobRecord, string>();
  private readonly writer: EntityGroupWriter;

  constructor(
    private readonly table: TableClient,
    private readonly now: () => Date = () => new Date(),
    private readonly listDays: number = defaultListDays,
    private readonly callTimeoutMs = 10_000,
  ) {
    this.writer = new EntityGroupWriter(
      table,
      () => this.call,
      (error) => unavailable('index write', error),
    );
  }

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
    // The index first: an unfinished record is always found by the sweep, through its `u|` row. Rows left by a
    // create that dies before its insert are none's: the sweep and retention remove them.
    await this.index(record);
    // A second try only for a job removed between our conflict and our read of it.
    for (let attempt = 1; attempt <= 2; attempt += 1) {
      try {
        const created = await this.table.createEntity(
          toRecordEntity(record, this.writeIdOf(record), body),
          this.call,
        );
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
      // Ours when the write id is: our own insert, its answer lost, the SDK's retry refused.
      if (existing['writeId'] === this.writeIdOf(record)) return { created: true, stored };
      // Another's (a repeated key): our rows go now, unless they are its own (submitted in the same millisecond).
      // Should we die first, the sweep removes them.
      const ours = indexedJobOf(record);
      const its = indexAddress(stored.record);
      if (its.partitionKey !== ours.partitionKey || its.suffix !== ours.suffix) await this.removeIndex(ours);
      return { created: false, existing: stored };
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
    // written from its row by the first read of it or by the sweep. The records go at once (a commit holds at most
    // 100): a batch waits one create's round trips, not one per record.
    const results = await Promise.all(
      jobs.map(({ record, body }) =>
        this.create(record, body).catch((): CreateJobResult => ({
          created: true,
          stored: storedJob(record, '', body),
        })),
      ),
    );
    if (results.every((result) => !result.created || result.stored.etag !== '')) {
      // Not waited for: the rows promise only what is written now. One left behind is written again (a no-op) and
      // removed by the sweep.
      this.writer
        .write(
          partitionKey,
          rows.map((row): RowWrite => ({ kind: 'delete', partitionKey, rowKey: row.rowKey })),
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
    // Not waited for: the record is the truth, written. A lost index write leaves the job's `u|` row, and the sweep
    // writes the index again from the record. An unfinished job's rows linger for the next write (a claim's, for
    // its result's): a job that runs a moment costs one index transaction for both.
    this.index(record, isTerminalJobStatus(record.status) ? 0 : unfinishedIndexLingerMs).catch(
      () => undefined,
    );
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
    // Best effort: a left-over entry is skipped by the listing, whose record is missing, and retention removes it
    // later. The outcomes the stats count go with the job (older ones than the record keeps age out of the window).
    const removed = parseRecord(recordTextOf(current));
    await this.removeIndex(indexedJobOf(removed), removed.outcomes);
    return true;
  }

  async list({ status, jobType, limit, continuationToken }: JobListQuery): Promise<JobListPage> {
    await this.ensureTable();
    // This process's own writes are in the index before it is read.
    await this.writer.idle();
    const rows = listedRows(status, jobType);
    const given =
      continuationToken === undefined ? undefined : decodeListingToken(continuationToken, listCursorSchema);
    // A token of another listing (its filters) names a row out of this one's range.
    if (given && !inRange(rows.range, given.after)) throw new InvalidContinuationTokenError();
    let cursor = given ?? this.firstCursor();
    const jobs: JobRecord[] = [];
    for (
      let pages = 0;
      jobs.length < limit && cursor.daysLeft > 0 && pages < maxIndexPagesPerList;
      pages += 1
    ) {
      // No more entries than jobs still wanted, so a page is always taken whole and the service's token (past the
      // page) is where the next one starts.
      const page = await this.readIndexPage(cursor, rows, limit - jobs.length).catch((error: unknown) => {
        // The service's own refusal of keys a caller's token carried: that token was not the service's.
        if (pages === 0 && given?.serviceToken && statusOf((error as Error).cause) === 400)
          throw new InvalidContinuationTokenError();
        throw error;
      });
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

  /**
   * The `u|` rows of every day written for a record version older than `updatedBefore`: as many reads as there are
   * days in the table and unfinished jobs, whatever the number of finished ones. Each row's record says whether the
   * job is idle (`idleSinceMs`); one that waits is passed over. A row whose record is finished is an index write that
   * was lost: written again. A row whose record is missing, or is another job's, is what a create left that lost or
   * died: removed.
   */
  async findUnfinished({ updatedBefore, limit }: JobAgeQuery): Promise<StoredJob[]> {
    await this.sweepOutbox(updatedBefore, limit);
    return this.collectByDay(
      await this.indexDays(this.now()),
      (partition) => `${rangeFilter(partition, unfinishedRange)} and ${odata`updatedAt lt ${updatedBefore}`}`,
      (row) => this.unfinishedJob(row, updatedBefore),
      limit,
    );
  }

  /**
   * Up to `limit` jobs that `pick` takes from the rows `filterOf` selects in each of `days`, in order; `afterDay`
   * learns how many rows a day had.
   */
  private async collectByDay(
    days: readonly string[],
    filterOf: (partition: string) => string,
    pick: (row: IndexEntity) => Promise<StoredJob | undefined>,
    limit: number,
    afterDay?: (partition: string, rows: number) => Promise<void>,
  ): Promise<StoredJob[]> {
    const found: StoredJob[] = [];
    for (const partition of days) {
      let continuationToken: string | undefined;
      let rows = 0;
      do {
        const page = await this.readPage<IndexEntity>(filterOf(partition), {
          maxPageSize: maxUnfinishedPageSize,
          continuationToken,
        });
        rows += page.length;
        const jobs = await mapLimited(page, sweepConcurrency, pick);
        for (const job of jobs) if (job && found.length < limit) found.push(job);
        if (found.length >= limit) return found;
        continuationToken = page.continuationToken;
      } while (continuationToken);
      await afterDay?.(partition, rows);
    }
    return found;
  }

  private async unfinishedJob(row: IndexEntity, updatedBefore: Date): Promise<StoredJob | undefined> {
    const entity = await this.readEntity(row.jobId);
    const stored = entity && toStoredJob(entity);
    if (!stored || indexAddress(stored.record).suffix !== suffixOf(row.rowKey)) {
      await this.removeIndex(indexedJobOfRow(row));
      return undefined;
    }
    if (isTerminalJobStatus(stored.record.status)) {
      await this.index(stored.record);
      return undefined;
    }
    const idleSince = idleSinceMs(stored.record);
    return idleSince !== undefined && idleSince < updatedBefore.getTime() ? stored : undefined;
  }

  /**
   * The listing entries of the days up to `updatedBefore`'s, oldest day first: a job is submitted before it last
   * changes, so these are every candidate. The days past retention hold little but what is to be removed; an entry
   * whose record is missing (a removal that left it, a create that lost) is removed with its rows.
   */
  async findFinished({ updatedBefore, limit }: JobAgeQuery): Promise<StoredJob[]> {
    // Only jobs submitted before `updatedBefore` can have been changed last before it: the day's older rows.
    const submittedBefore = { from: listingKeyBefore(updatedBefore), to: listingRange.to };
    const cutoffDay = indexPartition(updatedBefore);
    const days = (await this.indexDays(updatedBefore)).filter((partition) => partition <= cutoffDay);
    return this.collectByDay(
      days,
      (partition) => rangeFilter(partition, submittedBefore),
      (entry) => this.finishedJob(entry, updatedBefore),
      limit,
      async (partition, rows) => {
        if (rows === 0 && partition < cutoffDay) await this.removeLeftovers(partition);
      },
    );
  }

  /**
   * A day before the cutoff's with no listing entry left holds only rows that removals left behind (each job's
   * rows go with its entry): removed, a page at a time, so the oldest day the sweeps start from moves on.
   */
  private async removeLeftovers(partition: string): Promise<void> {
    const rows = await this.readPage<IndexEntity>(odata`PartitionKey eq ${partition}`, {
      maxPageSize: maxUnfinishedPageSize,
      continuationToken: undefined,
    });
    await this.writer
      .write(
        partition,
        rows.map((row) => ({ kind: 'delete', partitionKey: partition, rowKey: row.rowKey })),
      )
      .catch(() => undefined);
  }

  private async finishedJob(entry: IndexEntity, updatedBefore: Date): Promise<StoredJob | undefined> {
    // The record only: retention removes the entity, bodies and all, and never needs to read them.
    const entity = await this.readEntity(entry.jobId, ['record']);
    const stored = entity && toStoredJob(entity);
    if (!stored || indexAddress(stored.record).suffix !== entry.rowKey) {
      // Not a create still under way (its entry is as new as its insert): one that lost, or a removal's leftover.
      if (new Date(entry.updatedAt ?? 0).getTime() < updatedBefore.getTime())
        await this.removeIndex(indexedJobOfRow(entry));
      return undefined;
    }
    const { record } = stored;
    return isTerminalJobStatus(record.status) && Date.parse(record.updatedAt) < updatedBefore.getTime()
      ? stored
      : undefined;
  }

  /** The index partitions from the oldest in the table to `until`'s day (and the next, for clocks ahead). */
  private async indexDays(until: Date): Promise<string[]> {
    await this.ensureTable();
    const [oldest] = await this.readPage<IndexEntity>(
      [odata`PartitionKey ge ${indexPartitions.from}`, odata`PartitionKey lt ${indexPartitions.to}`].join(
        ' and ',
      ),
      { maxPageSize: 1, continuationToken: undefined },
      ['PartitionKey'],
    );
    if (!oldest || !isIndexPartition(oldest.partitionKey)) return [];
    const last = indexPartition(new Date(until.getTime() + 86_400_000));
    const days: string[] = [];
    for (let day = oldest.partitionKey; day <= last && days.length < maxIndexDays; day = nextDay(day, 1))
      days.push(day);
    return days;
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
    await mapLimited(rows, sweepConcurrency, async (row) => {
      if (row['tombstone'] !== true) await this.writeFromOutbox(row);
      else await this.deleteRow(row);
    });
  }

  async stats(query: JobStatsQuery): Promise<JobStatsSnapshot> {
    await this.ensureTable();
    await this.writer.idle();
    return tableJobStats(this.rowReader, query, this.now());
  }

  /** The index's rows for the stats: read page by page, each page with its own time budget. */
  private readonly rowReader: IndexRowReader = {
    rows: async (filter, select, maxRows) => {
      const rows: Array<Record<string, unknown> & { rowKey: string; etag: string }> = [];
      let continuationToken: string | undefined;
      do {
        const page = await this.readPage<Record<string, unknown>>(
          filter,
          { maxPageSize: Math.min(maxStatsPageSize, maxRows - rows.length), continuationToken },
          select,
        );
        for (const row of page) rows.push({ ...row, rowKey: row.rowKey ?? '', etag: row.etag });
        continuationToken = page.continuationToken;
      } while (continuationToken && rows.length < maxRows);
      return rows;
    },
    write: (partition, rows) => {
      this.writer.write(partition, rows, unfinishedIndexLingerMs).catch(() => undefined);
    },
  };

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

  private readIndexPage(cursor: ListCursor, rows: ListedRows, maxPageSize: number): Promise<IndexPage> {
    const filter = [rangeFilter(cursor.partition, rows.range, cursor.after), ...rows.filters].join(' and ');
    return this.readPage<IndexEntity>(filter, { maxPageSize, continuationToken: cursor.serviceToken });
  }

  /** The entry's record, unless it is gone or is another job's by now (an entry left by a removed job). */
  private async listedRecord(entry: IndexEntity): Promise<JobRecord | undefined> {
    const entity = await this.readEntity(entry.jobId, ['record']);
    if (!entity) return undefined;
    const record = parseRecord(recordTextOf(entity));
    const { partitionKey, suffix } = indexAddress(record);
    return partitionKey === entry.partitionKey && suffix === suffixOf(entry.rowKey) ? record : undefined;
  }

  /** The index rows of `record` as it now stands; throws `StoreUnavailable` when they could not be written. */
  private async index(record: JobRecord, lingerMs = 0): Promise<void> {
    await Promise.all(
      indexWrites(record).map(({ partitionKey, rows }) => this.writer.write(partitionKey, rows, lingerMs)),
    );
  }

  /** Best effort: rows left behind are skipped by the listing and removed by a later sweep or retention run. */
  private async removeIndex(job: IndexedJob, outcomes?: JobRecord['outcomes']): Promise<void> {
    await Promise.all(
      indexRemovals(job, outcomes).map(({ partitionKey, rows }) =>
        this.writer.write(partitionKey, rows).catch(() => undefined),
      ),
    );
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
  partition: z.string().refine(isIndexPartition),
  // A row key of the listing's range (checked against the listing's filters where it is read).
  after: z.string().regex(/^[\x20-\x7e]{0,600}$/),
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

function previousDay(cursor: ListCursor): ListCursor {
  return { partition: nextDay(cursor.partition, -1), after: '', daysLeft: cursor.daysLeft - 1 };
}

/** Which index rows a listing reads, and the conditions the service applies to them besides the range. */
interface ListedRows {
  range: RowRange;
  filters: string[];
}

/**
 * The rows a listing reads: the unfinished ones for an unfinished status (the status is the record's, read for
 * each), a terminal status's own rows, a job type's own rows, or every entry. Each costs reads in proportion to the
 * rows it lists, but a job type with a terminal status reads that type's rows.
 */
function listedRows(status: JobStatus | undefined, jobType: string | undefined): ListedRows {
  if (status && !isTerminalJobStatus(status))
    return { range: unfinishedRange, filters: jobType ? [odata`jobType eq ${jobType}`] : [] };
  if (jobType) return { range: jobTypeRange(jobType), filters: status ? [odata`status eq ${status}`] : [] };
  return { range: status ? statusRange(status) : listingRange, filters: [] };
}

function indexedJobOfRow(row: IndexEntity): IndexedJob {
  return {
    partitionKey: row.partitionKey,
    suffix: suffixOf(row.rowKey),
    jobId: row.jobId,
    jobType: row.jobType,
    status: row.status,
  };
}

function encodeCursor(cursor: ListCursor): string {
  return encodeListingToken(cursor);
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
