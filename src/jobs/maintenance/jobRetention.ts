import { errorMessage } from '../errors';
import type { JobStore } from '../ports/jobStore';
import { isTerminalJobStatus } from '../model/jobRecord';
import { changeRecord } from '../support/changeRecord';
import type { Logger } from '../support/logger';

export interface JobRetentionOptions {
  store: Pick<JobStore, 'findFinished' | 'get' | 'replace' | 'remove'>;
  /** Finished jobs unchanged for this many days are removed (`Jobs__Retention__Days`). */
  retentionDays: number;
  logger: Logger;
  /**
   * Records read and removed a batch; a run goes on batch after batch until none is left, `maxBatches` are done, or
   * `runBudgetMs` has passed (a run must end well within the host's function timeout), and leaves the rest for the
   * next.
   */
  batchSize?: number;
  maxBatches?: number;
  runBudgetMs?: number;
  now?: () => Date;
  /** The run's own clock for its budget (not the retention window's, which tests move). */
  elapsedMs?: () => number;
}

export interface RetentionReport {
  readonly removed: number;
  /** `true` when the run stopped at its bound with more to remove: the next run goes on. */
  readonly more: boolean;
}

const dayMs = 24 * 60 * 60 * 1000;

/**
 * Removes finished jobs (Completed, DeadLettered, Cancelled) older than the retention period, record and listing
 * entry, in bounded batches. A job that changes while it is looked at (an operator replays it) is left alone: the
 * removal is conditional on the version read.
 */
export class JobRetention {
  private readonly batchSize: number;
  private readonly maxBatches: number;
  private readonly runBudgetMs: number;
  private readonly now: () => Date;
  private readonly elapsedMs: () => number;

  constructor(private readonly options: JobRetentionOptions) {
    this.batchSize = options.batchSize ?? 100;
    this.maxBatches = options.maxBatches ?? Number.POSITIVE_INFINITY;
    // Hourly by default: a million jobs a day is about 42,000 to remove an hour, minutes of work.
    this.runBudgetMs = options.runBudgetMs ?? 10 * 60_000;
    this.now = options.now ?? (() => new Date());
    this.elapsedMs = options.elapsedMs ?? (() => performance.now());
  }

  async run(): Promise<RetentionReport> {
    const { store, retentionDays, logger } = this.options;
    const updatedBefore = new Date(this.now().getTime() - retentionDays * dayMs);
    let removed = 0;
    const deadline = this.elapsedMs() + this.runBudgetMs;
    for (let batch = 1; batch <= this.maxBatches && this.elapsedMs() < deadline; batch += 1) {
      const finished = await store.findFinished({ updatedBefore, limit: this.batchSize });
      const results = await Promise.all(
        finished.map((stored) =>
          // Looked at again should it change meanwhile (an operator replays it): then it stays.
          changeRecord(store, stored, (record) =>
            isTerminalJobStatus(record.status) && Date.parse(record.updatedAt) < updatedBefore.getTime()
              ? { remove: true, result: true }
              : { keep: false },
          ).then(
            (changed) => changed?.result ?? true,
            (error: unknown) => {
              logger.warn('Retention could not remove a job; the next run tries again', {
                jobId: stored.record.jobId,
                error: errorMessage(error),
              });
              return false;
            },
          ),
        ),
      );
      removed += results.filter(Boolean).length;
      // A batch with nothing removed (all changed meanwhile, or the store refuses) would only be read again.
      if (finished.length < this.batchSize || !results.some(Boolean)) return this.report(removed, false);
    }
    return this.report(removed, true);
  }

  private report(removed: number, more: boolean): RetentionReport {
    if (removed > 0) this.options.logger.info('Removed finished jobs past retention', { removed, more });
    return { removed, more };
  }
}
