import type { Telemetry } from '../ports/telemetry';
import { noTelemetry } from '../ports/telemetry';
import { JobTelemetry } from '../observability/jobTelemetry';
import { NotFoundError } from '../errors';
import type { JobRecord } from '../model/jobRecord';
import { transition } from '../model/jobTransitions';
import type { JobStore } from '../ports/jobStore';
import { changeRecord } from '../support/changeRecord';
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
    const now = this.now();
    const changed = await changeRecord<CancelOutcome>(store, jobId, (record) => {
      const next = transition(record, { type: 'CancelRequested' }, now);
      return next.ok
        ? { write: next.record, result: next.record.status === 'Cancelled' ? 'Cancelled' : 'CancelRequested' }
        : { keep: 'AlreadyFinished' };
    });
    if (!changed?.stored) throw new NotFoundError(`No job with id '${jobId}'.`);
    const { result: outcome, stored } = changed;
    const { record } = stored;
    if (outcome === 'Cancelled') {
      logger.info('Job cancelled', { jobId, jobType: record.jobType, attempt: record.attempt });
      this.events.cancelled(record, record.attempt, undefined);
    } else if (outcome === 'CancelRequested') {
      const here = this.options.cancelRunning(jobId);
      logger.info('Job cancel requested while it runs', {
        jobId,
        jobType: record.jobType,
        runningHere: here,
      });
    }
    return { outcome, record };
  }
}
