import { isoTimestamp } from '../model/isoTimestamp';
import type { JobProgress } from '../model/jobRecord';
import type { JobStore, StoredJob } from '../ports/jobStore';
import { transition } from '../model/jobTransitions';
import { changeRecord } from '../support/changeRecord';

export interface ProgressReporterOptions {
  store: Pick<JobStore, 'get' | 'replace' | 'remove'>;
  /** The record as the run's claim wrote it. */
  claimed: StoredJob;
  /** The worker that holds the claim: a record someone else has taken over is not written. */
  workerId: string;
  /** At most one write this often (1 s). */
  intervalMs?: number;
  now?: () => Date;
}

/**
 * A running job's progress reports, written to its record: the first at once, then at most one an interval, the
 * latest report always kept. Best effort: a report that cannot be written (the store is down, the job was taken
 * over) is dropped, never failing the run. Keeps the record version current, so the run's result write that follows
 * does not conflict with its own progress.
 */
export class ProgressReporter {
  private current: StoredJob;
  private pending: JobProgress | undefined;
  private latest: JobProgress | undefined;
  private lastWriteAt = -Infinity;
  private writing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly intervalMs: number;
  private readonly now: () => Date;

  constructor(private readonly options: ProgressReporterOptions) {
    this.current = options.claimed;
    this.intervalMs = options.intervalMs ?? 1_000;
    this.now = options.now ?? (() => new Date());
  }

  readonly report = (percent: number, note?: string): void => {
    if (this.stopped || !Number.isFinite(percent)) return;
    this.pending = this.latest = {
      percent: Math.min(100, Math.max(0, percent)),
      note: note === undefined ? null : note.slice(0, 256),
      at: isoTimestamp(this.now()),
    };
    this.schedule();
  };

  /**
   * Stops reporting once any write under way has ended: the record version to write the run's result on, and the
   * latest report, which the result write keeps (it may not have been written yet).
   */
  async finish(): Promise<{ current: StoredJob; progress: JobProgress | null }> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.writing;
    return { current: this.current, progress: this.latest ?? this.current.record.progress };
  }

  private schedule(): void {
    if (this.writing || this.timer) return;
    const wait = this.lastWriteAt + this.intervalMs - performance.now();
    if (wait <= 0) {
      this.writing = this.write().finally(() => {
        this.writing = undefined;
        if (this.pending && !this.stopped) this.schedule();
      });
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.schedule();
    }, wait);
    this.timer.unref();
  }

  private async write(): Promise<void> {
    const progress = this.pending;
    if (!progress) return;
    this.pending = undefined;
    this.lastWriteAt = performance.now();
    const { store, workerId } = this.options;
    try {
      // Someone else may write the record meanwhile (a cancel request): the report goes on theirs while the claim
      // is still ours, and is dropped once it is not.
      const changed = await changeRecord(store, this.current, (record) => {
        const next = transition(record, { type: 'ProgressReported', progress, workerId }, this.now());
        return next.ok ? { write: next.record, result: true } : { keep: false };
      });
      if (changed?.result && changed.stored) this.current = changed.stored;
    } catch {
      // Progress is best effort: the run goes on, and its result write reports the store's state.
    }
  }
}
