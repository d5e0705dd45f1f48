import type { Telemetry } from '../ports/telemetry';
import { noTelemetry } from '../ports/telemetry';
import { JobTelemetry } from '../observability/jobTelemetry';
import { InfrastructureError, NotFoundError } from '../errors';
import { isoTimestamp } from '../model/isoTimestamp';
import type { JobRecord } from '../model/jobRecord';
import { cancelledRecord, liveClaimExpiry } from '../model/jobRecord';
import type { JobStore } from '../ports/jobStore';
import { isTerminalJobStatus } from '../ports/jobStore';
import type { Logger } from '../support/logger';

/**
 * What a cancel came to: `Cancelled` (it will never run), `CancelRequested` (it is running: its handler is asked to
 * stop, and it ends Cancelled when the run does), or `AlreadyFinished` (nothing to cancel; the record says how it
 * ended).
 */
export type CancelOutcome = 'Cancelled' | 'CancelRequested' | 'AlreadyFinished';

export interface CancelResult {
  readonly outcome: CancelOutcome;
  readonly record: JobRecord;
}

export interface JobCancellationOptions {
  store: JobStore;
  /** Aborts the job's run when it is under way in this process; `false` when it is not. */
  cancelRunning: (jobId: string) => boolean;
  logger: Logger;
  telemetry?: Telemetry;
  now?: () => Date;
}

// A cancel races the dispatcher's writes (claim, result); each lost race re-reads, and the job soon stands still.
const maxRounds = 5;

/**
 * Cancels jobs. A queued or retrying job is recorded Cancelled at once, and the dispatcher completes any message of
 * it without running it (a retry copy scheduled before the cancel included). A running job gets `cancelRequestedAt`
 * on its record and its handler's signal aborts; whatever the run comes to, the dispatcher records it Cancelled.
 */
export class JobCancellation {
  private readonly events: JobTelemetry;
  private readonly now: () => Date;

  constructor(private readonly options: JobCancellationOptions) {
    this.events = new JobTelemetry(options.telemetry ?? noTelemetry);
    this.now = options.now ?? (() => new Date());
  }

  async cancel(jobId: string): Promise<CancelResult> {
    const { store, logger } = this.options;
    for (let round = 1; round <= maxRounds; round += 1) {
      const stored = await store.get(jobId);
      if (!stored) throw new NotFoundError(`No job with id '${jobId}'.`);
      const { record } = stored;
      if (isTerminalJobStatus(record.status)) return { outcome: 'AlreadyFinished', record };
      const at = isoTimestamp(this.now());
      // A run whose claim has run out is over (the runner stops handlers at their timeout): nothing is left to stop.
      const running = liveClaimExpiry(record, this.now()) !== undefined;
      const next: JobRecord = running
        ? { ...record, cancelRequestedAt: record.cancelRequestedAt ?? at, updatedAt: at }
        : cancelledRecord({ ...record, cancelRequestedAt: record.cancelRequestedAt ?? at }, at);
      if ((await store.replace(next, stored.etag)) === undefined) continue;
      if (!running) {
        logger.info('Job cancelled', { jobId, jobType: record.jobType, was: record.status });
        this.events.cancelled(record, record.attempt, undefined);
        return { outcome: 'Cancelled', record: next };
      }
      const here = this.options.cancelRunning(jobId);
      logger.info('Job cancel requested while it runs', {
        jobId,
        jobType: record.jobType,
        runningHere: here,
      });
      return { outcome: 'CancelRequested', record: next };
    }
    throw new InfrastructureError(
      'StoreUnavailable',
      `Job ${jobId} kept changing while it was being cancelled.`,
    );
  }
}
