import type { TableClient, TableEntity, TransactionAction } from '@azure/data-tables';
import { statusOf } from './statusOf';

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
  /** Lingering: a timer will start the flush; due: it starts on the next turn; flushing: it runs. */
  state: 'lingering' | 'due' | 'flushing';
  timer?: NodeJS.Timeout;
  /** Settles when the partition's flush ends (undefined until it starts). */
  flushed?: Promise<void>;
}

/**
 * Group commit for the rows of a partition: the writes asked for while the partition's transaction is in flight (or
 * while it lingers) go together in its next one, the last write of a row winning. At load many jobs' index rows cost
 * one request; one process's writes of a row apply in the order they were asked for; idempotent rows (upsert,
 * delete-if-present) make the SDK's retry of a transaction whose answer was lost harmless.
 */
export class EntityGroupWriter {
  private readonly partitions = new Map<string, PartitionQueue>();

  constructor(
    private readonly table: TableClient,
    private readonly callOptions: () => { abortSignal: AbortSignal },
    private readonly toError: (error: unknown) => Error,
  ) {}

  /**
   * Resolves once `rows` (or later writes of the same rows) are committed; rejects when the commit failed. With
   * `lingerMs`, the partition's transaction waits that long for more writes (a later write without it, or `idle`,
   * sends it at once): a job's claim and its result, a moment apart, then cost one.
   */
  write(partitionKey: string, rows: readonly RowWrite[], lingerMs = 0): Promise<void> {
    if (rows.length === 0) return Promise.resolve();
    let queue = this.partitions.get(partitionKey);
    if (!queue) {
      queue = { pending: new Map(), waiters: [], state: 'lingering' };
      this.partitions.set(partitionKey, queue);
      if (lingerMs > 0) {
        const lingering = queue;
        queue.timer = setTimeout(() => this.start(partitionKey, lingering), lingerMs);
        queue.timer.unref();
      } else {
        this.due(partitionKey, queue);
      }
    } else if (lingerMs === 0) {
      this.due(partitionKey, queue);
    }
    for (const row of rows) {
      const rowKey = rowKeyOf(row);
      queue.pending.delete(rowKey);
      queue.pending.set(rowKey, row);
    }
    const waiters = queue.waiters;
    return new Promise<void>((resolve, reject) => waiters.push({ resolve, reject }));
  }

  /** Sends every lingering write now, and resolves when every write asked for so far has been tried. */
  async idle(): Promise<void> {
    while (this.partitions.size > 0) {
      for (const [partitionKey, queue] of this.partitions) this.due(partitionKey, queue);
      await Promise.all([...this.partitions.values()].map((queue) => queue.flushed));
    }
  }

  /** The writes of one turn of the event loop share the first transaction. */
  private due(partitionKey: string, queue: PartitionQueue): void {
    if (queue.state !== 'lingering') return;
    clearTimeout(queue.timer);
    queue.state = 'due';
    queue.flushed = new Promise<void>((resolve) => setImmediate(resolve)).then(() =>
      this.flush(partitionKey, queue),
    );
  }

  private start(partitionKey: string, queue: PartitionQueue): void {
    if (queue.state !== 'lingering') return;
    queue.state = 'due';
    queue.flushed = this.flush(partitionKey, queue);
  }

  private async flush(partitionKey: string, queue: PartitionQueue): Promise<void> {
    queue.state = 'flushing';
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

  private async commitChunk(chunk: readonly RowWrite[]): Promise<void> {
    let rows = chunk;
    for (;;) {
      if (rows.length === 0) return;
      try {
        await this.table.submitTransaction(rows.map(actionOf), this.callOptions());
        return;
      } catch (error) {
        // A row to delete was not there (the transaction applied nothing): it is done; the rest go again. The
        // service names the failed action ("<index>:…").
        if (statusOf(error) !== 404) throw error;
        const failed = Number(/^(\d+):/.exec(error instanceof Error ? error.message : '')?.[1]);
        if (rows[failed]?.kind !== 'delete') return this.oneByOne(rows);
        rows = rows.filter((_, index) => index !== failed);
      }
    }
  }

  /**
   * Without the failed action's index: the deletes one by one, each done if its row is gone; then the upserts
   * together, so that the version rows among them (minuteRollups) change only once every row they version has.
   */
  private async oneByOne(rows: readonly RowWrite[]): Promise<void> {
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

function rowKeyOf(row: RowWrite): string {
  return row.kind === 'upsert' ? row.entity.rowKey : row.rowKey;
}

function actionOf(row: RowWrite): TransactionAction {
  return row.kind === 'upsert'
    ? ['upsert', row.entity, 'Replace']
    : ['delete', { partitionKey: row.partitionKey, rowKey: row.rowKey }];
}
