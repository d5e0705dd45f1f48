import type { TableClient, TableEntity, TransactionAction } from '@azure/data-tables';

/** A row of one partition to write: upserted whole (Replace), or deleted if it is there. */
export type RowWrite =
  | { readonly kind: 'upsert'; readonly entity: TableEntity<Record<string, unknown>> }
  | { readonly kind: 'delete'; readonly partitionKey: string; readonly rowKey: string };

// Table Storage's limit for one entity group transaction.
const maxActionsPerTransaction = 100;

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface PartitionQueue {
  pending: Map<string, RowWrite>;
  waiters: Waiter[];
  flushed: Promise<void>;
}

/**
 * Group commit for the rows of a partition: the writes asked for while the partition's transaction is in flight go
 * together in its next one, the last write of a row winning. At load many jobs' index rows cost one request; one
 * process's writes of a row apply in the order they were asked for; idempotent rows (upsert, delete-if-present)
 * make the SDK's retry of a transaction whose answer was lost harmless.
 */
export class EntityGroupWriter {
  private readonly partitions = new Map<string, PartitionQueue>();

  constructor(
    private readonly table: TableClient,
    private readonly callOptions: () => { abortSignal: AbortSignal },
    private readonly toError: (error: unknown) => Error,
  ) {}

  /** Resolves once `rows` (or later writes of the same rows) are committed; rejects when the commit failed. */
  write(partitionKey: string, rows: readonly RowWrite[]): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    let queue = this.partitions.get(partitionKey);
    if (!queue) {
      queue = { pending: new Map(), waiters: [], flushed: Promise.resolve() };
      this.partitions.set(partitionKey, queue);
      const started = queue;
      // The writes of one turn of the event loop share the first transaction.
      queue.flushed = new Promise<void>((resolve) => setImmediate(resolve)).then(() =>
        this.flush(partitionKey, started),
      );
    }
    for (const row of rows) {
      const rowKey = rowKeyOf(row);
      queue.pending.delete(rowKey);
      queue.pending.set(rowKey, row);
    }
    const waiters = queue.waiters;
    return new Promise<void>((resolve, reject) => waiters.push({ resolve, reject }));
  }

  /** Resolves when every write asked for so far has been tried (committed or failed). */
  async idle(): Promise<void> {
    while (this.partitions.size > 0) await Promise.all([...this.partitions.values()].map((q) => q.flushed));
  }

  private async flush(partitionKey: string, queue: PartitionQueue): Promise<void> {
    while (queue.pending.size > 0) {
      const rows = [...queue.pending.values()];
      const waiters = queue.waiters;
      queue.pending = new Map();
      queue.waiters = [];
      try {
        await this.commit(rows);
        for (const waiter of waiters) waiter.resolve();
      } catch (error) {
        const failure = this.toError(error);
        for (const waiter of waiters) waiter.reject(failure);
      }
    }
    this.partitions.delete(partitionKey);
  }

  private async commit(rows: readonly RowWrite[]): Promise<void> {
    const chunks: RowWrite[][] = [];
    for (let start = 0; start < rows.length; start += maxActionsPerTransaction)
      chunks.push(rows.slice(start, start + maxActionsPerTransaction));
    await Promise.all(chunks.map((chunk) => this.commitChunk(chunk)));
  }

  private async commitChunk(rows: readonly RowWrite[]): Promise<void> {
    try {
      await this.table.submitTransaction(rows.map(actionOf), this.callOptions());
    } catch (error) {
      // A row to delete was not there (the transaction applied nothing): the deletes one by one, each of them
      // already done if its row is gone; then the upserts together, so that the version rows among them
      // (minuteRollups) change only once every row they version has.
      if (statusOf(error) !== 404 || !rows.some((row) => row.kind === 'delete')) throw error;
      await Promise.all(
        rows.map(async (row) => {
          if (row.kind !== 'delete') return;
          await this.table.deleteEntity(row.partitionKey, row.rowKey, this.callOptions()).catch((failure) => {
            if (statusOf(failure) !== 404) throw failure;
          });
        }),
      );
      const upserts = rows.filter((row) => row.kind === 'upsert');
      if (upserts.length > 0) await this.table.submitTransaction(upserts.map(actionOf), this.callOptions());
    }
  }
}

function rowKeyOf(row: RowWrite): string {
  return row.kind === 'upsert' ? row.entity.rowKey : row.rowKey;
}

function actionOf(row: RowWrite): TransactionAction {
  return row.kind === 'upsert'
    ? ['upsert', row.entity, 'Replace']
    : ['delete', { partitionKey: row.partitionKey, rowKey: row.rowKey }];
}

function statusOf(error: unknown): number | undefined {
  return typeof error === 'object' && error !== null && 'statusCode' in error
    ? (error as { statusCode?: number }).statusCode
    : undefined;
}
