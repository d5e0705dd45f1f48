import type { TableClient } from '@azure/data-tables';
import { odata } from '@azure/data-tables';
import { z } from 'zod';
import { InfrastructureError, errorMessage } from '../jobs/errors';
import type { JobRecord } from '../jobs/jobRecord';
import { jobRecordSchema } from '../jobs/jobRecord';
import type { CreateJobResult, JobListPage, JobListQuery, JobStore, StoredJob } from './jobStore';

const recordRowKey = 'job';
const indexPartitionPrefix = 'index-';
// Newest first in Table Storage's ascending key order: the row key counts down from the end of time.
const maxTimestampMs = 9_999_999_999_999;
const defaultListDays = 30;

interface RecordEntity {
  partitionKey: string;
  rowKey: string;
  /** The whole record as JSON: one property, validated on every read. */
  record: string;
  status: string;
  jobType: string;
}

interface IndexEntity {
  partitionKey: string;
  rowKey: string;
  jobId: string;
  jobType: string;
}

/**
 * Job records on Azure Table Storage. A record is one entity keyed by jobId (point reads, conditional writes on its
 * ETag); listing newest first reads a per-day index partition whose row keys count down in time, written once when
 * the job is created.
 */
export class TableJobStore implements JobStore {
  private tableReady: Promise<void> | undefined;

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

  async create(record: JobRecord): Promise<CreateJobResult> {
    await this.ensureTable();
    // The index entry goes alongside, in parallel: a listing may show a job a moment before its record exists
    // (it is skipped until then), never miss one.
    const [created, indexed] = await Promise.allSettled([
      this.table.createEntity(toRecordEntity(record), this.call),
      this.table.upsertEntity(toIndexEntity(record), 'Replace', this.call),
    ]);
    if (created.status === 'fulfilled' && indexed.status === 'fulfilled') {
      return { created: true, stored: { record, etag: created.value.etag ?? '' } };
    }
    if (created.status === 'fulfilled') {
      await this.table.deleteEntity(record.jobId, recordRowKey, this.call).catch(() => undefined);
      throw unavailable('create', indexed.status === 'rejected' ? indexed.reason : undefined);
    }
    if (statusOf(created.reason) !== 409) throw unavailable('create', created.reason);
    // A repeat of an existing job: the index entry just written carries the repeat's time, not the job's.
    await this.table.deleteEntity(...indexKeys(record), this.call).catch(() => undefined);
    const existing = await this.get(record.jobId);
    if (!existing)
      throw new InfrastructureError('StoreUnavailable', `Job ${record.jobId} conflicted but cannot be read.`);
    return { created: false, existing };
  }

  async get(jobId: string): Promise<StoredJob | undefined> {
    await this.ensureTable();
    try {
      const entity = await this.table.getEntity<RecordEntity>(jobId, recordRowKey, this.call);
      return { record: parseRecord(entity.record), etag: entity.etag };
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw unavailable('read', error);
    }
  }

  async replace(record: JobRecord, etag: string): Promise<string | undefined> {
    await this.ensureTable();
    try {
      const updated = await this.table.updateEntity(toRecordEntity(record), 'Replace', {
        ...this.call,
        etag,
      });
      return updated.etag;
    } catch (error) {
      if (statusOf(error) === 412 || statusOf(error) === 404) return undefined;
      throw unavailable('update', error);
    }
  }

  async remove(jobId: string): Promise<void> {
    await this.ensureTable();
    const stored = await this.get(jobId);
    try {
      await this.table.deleteEntity(jobId, recordRowKey, this.call);
      if (stored) await this.table.deleteEntity(...indexKeys(stored.record), this.call);
    } catch (error) {
      if (statusOf(error) !== 404) throw unavailable('delete', error);
    }
  }

  async list({ status, jobType, limit, continuationToken }: JobListQuery): Promise<JobListPage> {
    await this.ensureTable();
    let cursor = (continuationToken && decodeCursor(continuationToken)) || this.firstCursor();
    const jobs: JobRecord[] = [];
    try {
      while (jobs.length < limit && cursor.daysLeft > 0) {
        const filter = jobType
          ? odata`PartitionKey eq ${cursor.partition} and RowKey gt ${cursor.after} and jobType eq ${jobType}`
          : odata`PartitionKey eq ${cursor.partition} and RowKey gt ${cursor.after}`;
        const page = await this.table
          .listEntities<IndexEntity>({ ...this.call, queryOptions: { filter } })
          .byPage({ maxPageSize: limit })
          .next();
        const entries = page.done ? [] : page.value;
        // The service may return a short page and a token; only a page without one ends the day's partition.
        const dayExhausted = page.done || !page.value.continuationToken;
        const records = await Promise.all(entries.map((entry) => this.get(entry.jobId)));
        for (const [index, stored] of records.entries()) {
          cursor = { ...cursor, after: entries[index]?.rowKey ?? cursor.after };
          if (stored && (!status || stored.record.status === status)) jobs.push(stored.record);
          if (jobs.length === limit) break;
        }
        if (dayExhausted && jobs.length < limit) cursor = previousDay(cursor);
      }
    } catch (error) {
      throw unavailable('list', error);
    }
    return { jobs, continuationToken: cursor.daysLeft > 0 ? encodeCursor(cursor) : undefined };
  }

  private ensureTable(): Promise<void> {
    this.tableReady ??= this.table.createTable(this.call).catch((error: unknown) => {
      this.tableReady = undefined;
      throw unavailable('create table', error);
    });
    return this.tableReady;
  }

  private firstCursor(): ListCursor {
    return { partition: indexPartition(this.now()), after: '', daysLeft: this.listDays };
  }
}

const listCursorSchema = z.object({ partition: z.string(), after: z.string(), daysLeft: z.int() });
type ListCursor = z.output<typeof listCursorSchema>;

function toRecordEntity(record: JobRecord): RecordEntity {
  return {
    partitionKey: record.jobId,
    rowKey: recordRowKey,
    record: JSON.stringify(record),
    status: record.status,
    jobType: record.jobType,
  };
}

function toIndexEntity(record: JobRecord): IndexEntity {
  const [partitionKey, rowKey] = indexKeys(record);
  return { partitionKey, rowKey, jobId: record.jobId, jobType: record.jobType };
}

function indexKeys(record: JobRecord): [string, string] {
  const submitted = new Date(record.submittedAt);
  const countdown = String(maxTimestampMs - submitted.getTime()).padStart(13, '0');
  return [indexPartition(submitted), `${countdown}-${record.jobId}`];
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
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

// An unreadable token lists from the start, like no token.
function decodeCursor(token: string): ListCursor | undefined {
  try {
    const parsed = listCursorSchema.safeParse(JSON.parse(Buffer.from(token, 'base64url').toString()));
    return parsed.success ? parsed.data : undefined;
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

function unavailable(operation: string, error: unknown): InfrastructureError {
  return new InfrastructureError(
    'StoreUnavailable',
    `Table Storage ${operation} failed: ${errorMessage(error)}`,
    {
      cause: error,
    },
  );
}
