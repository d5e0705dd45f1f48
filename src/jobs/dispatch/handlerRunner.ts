import type { JobHandler, JobHandlerContext } from '../jobTypes/jobHandler';
import { JobsError, errorMessage, isPermanentJobError, isRetryLaterError } from '../errors';
import type { RunResult } from './jobDecision';
import type { JobMessage } from '../model/jobMessage';
import type { Logger } from '../support/logger';

export interface HandlerRunnerOptions {
  /** Aborted when the app shuts down: every run under way is cut short, and none starts. */
  shutdownSignal?: AbortSignal;
}

/** One handler run as the runner is asked for it. */
export interface HandlerCall {
  readonly handler: JobHandler;
  readonly payload: unknown;
  readonly job: JobMessage;
  readonly cycle: number;
  readonly attempt: number;
  readonly logger: Logger;
  /** The run is cut short after this long, whether or not its handler watches its signal (the type's policy). */
  readonly timeoutMs: number;
  /** Where the handler's `progress` reports go. */
  readonly onProgress?: (percent: number, note?: string) => void;
}

/**
 * Runs handlers under a deadline and the app's shutdown, and says how each run ended. A handler that ignores its
 * signal cannot hold its message past the deadline: the run settles without it.
 */
export class HandlerRunner {
  /**
   * The runs under way: one shutdown listener and one deadline timer for all of them, not one each. The timer is set
   * for the earliest deadline; job types have timeouts of their own, so that is not always the oldest run's.
   */
  private readonly running = new Set<HandlerRun>();
  private deadlineTimer: NodeJS.Timeout | undefined;
  /** When the timer fires, on the `performance.now()` clock. */
  private timerDue = Infinity;

  constructor(private readonly options: HandlerRunnerOptions) {
    options.shutdownSignal?.addEventListener(
      'abort',
      () => this.running.forEach((run) => run.abort(shutdownInterruption())),
      { once: true },
    );
  }

  async run(call: HandlerCall): Promise<RunResult> {
    const { handler, payload, timeoutMs } = call;
    const run = new HandlerRun(call, performance.now() + timeoutMs);
    try {
      await new Promise<void>((resolve, reject) => {
        run.cutShort = reject;
        this.watch(run);
        if (this.options.shutdownSignal?.aborted) run.abort(shutdownInterruption());
        else handler.handle(payload, run.context).then(resolve, reject);
      });
      return completedRun;
    } catch (error) {
      // The abort reason explains a handler that merely rethrew the AbortError its sleep or fetch raised.
      const cause = run.abortReason ?? error;
      const interruptedByShutdown = cause instanceof JobsError && cause.code === 'ShuttingDown';
      if (isPermanentJobError(error))
        return { status: 'Poisoned', error: errorMessage(error), cause: error, interruptedByShutdown };
      const retryAfterMs = isRetryLaterError(error) && !run.abortReason ? error.delayMs : undefined;
      return { status: 'Failed', error: errorMessage(cause), cause, interruptedByShutdown, retryAfterMs };
    } finally {
      this.unwatch(run);
    }
  }

  /** The jobs whose runs are under way in this process. */
  runningJobIds(): string[] {
    return [...this.running].map((run) => run.context.job.jobId);
  }

  /** Aborts the job's run under way in this process, if there is one: an operator cancelled the job. */
  cancel(jobId: string): boolean {
    for (const run of this.running) {
      if (run.context.job.jobId !== jobId) continue;
      run.abort(new JobsError('Cancelled', 'The job was cancelled.'));
      return true;
    }
    return false;
  }

  private watch(run: HandlerRun): void {
    this.running.add(run);
    if (run.deadline < this.timerDue) this.wakeAt(run.deadline);
  }

  private wakeAt(deadline: number): void {
    clearTimeout(this.deadlineTimer);
    this.timerDue = deadline;
    this.deadlineTimer = setTimeout(this.abortOverdueRuns, timerDelay(deadline - performance.now()));
  }

  /** The timer goes with the last run, so an idle runner holds no timer (and keeps no process alive). */
  private unwatch(run: HandlerRun): void {
    this.running.delete(run);
    if (this.running.size > 0 || this.deadlineTimer === undefined) return;
    clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
    this.timerDue = Infinity;
  }

  /** Times out every run past its deadline, then waits for the earliest deadline left. */
  private readonly abortOverdueRuns = (): void => {
    this.deadlineTimer = undefined;
    this.timerDue = Infinity;
    const now = performance.now();
    let next = Infinity;
    for (const run of this.running) {
      if (run.deadline > now) {
        next = Math.min(next, run.deadline);
        continue;
      }
      this.running.delete(run);
      run.abort(new JobsError('HandlerTimedOut', `The handler did not finish within ${run.timeoutMs} ms.`));
    }
    if (next < Infinity) this.wakeAt(next);
  };
}

const completedRun: RunResult = { status: 'Completed' };

/**
 * One handler run: the context its handler sees, and how the runner cuts it short (deadline, shutdown). The signal
 * is made on first use: most handlers never read it, and an AbortController per job is measurable.
 */
class HandlerRun {
  readonly context: JobHandlerContext;
  /** Why the run was cut short, once it was. */
  abortReason: JobsError | undefined;
  /** Rejects the run's promise; set as the run starts. */
  cutShort: ((reason: JobsError) => void) | undefined;
  private controller: AbortController | undefined;

  readonly timeoutMs: number;

  constructor(
    { job, cycle, attempt, logger, timeoutMs, onProgress }: HandlerCall,
    /** On the `performance.now()` clock. */
    readonly deadline: number,
  ) {
    this.timeoutMs = timeoutMs;
    const signal = (): AbortSignal => this.signal();
    // A plain object, `signal` an accessor of its own: a handler that spreads its context keeps the signal.
    this.context = {
      job,
      attempt,
      cycle,
      logger,
      get signal() {
        return signal();
      },
      progress: (percent, note) => onProgress?.(percent, note),
    };
  }

  abort(reason: JobsError): void {
    this.abortReason = reason;
    this.controller?.abort(reason);
    this.cutShort?.(reason);
  }

  private signal(): AbortSignal {
    this.controller ??= new AbortController();
    if (this.abortReason && !this.controller.signal.aborted) this.controller.abort(this.abortReason);
    return this.controller.signal;
  }
}

// Node fires a longer timer after 1 ms instead; a deadline further off is reached by waking up on the way.
const maxTimerDelayMs = 2 ** 31 - 1;

function timerDelay(ms: number): number {
  return Math.min(ms, maxTimerDelayMs);
}

function shutdownInterruption(): JobsError {
  return new JobsError('ShuttingDown', 'The handler was interrupted by shutdown.');
}
