import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Timer } from '@azure/functions';
import { InvocationContext } from '@azure/functions';
import type { AppConfig } from '../../src/config';
import { timerSchedule } from '../../src/config';
import type { TimerFunctionDefinition } from '../../src/functions/functionTable';
import { errorMessage } from '../../src/jobs/errors';
import type { Clock } from '../../src/jobs/ports/clock';
import type { Logger } from '../../src/jobs/support/logger';

/** The system clock, whose waits do not keep the process alive (as the host's timers, they end with it). */
const unrefClock: Clock = {
  now: () => new Date(),
  sleep: (ms, signal) => sleep(ms, undefined, { signal, ref: false }),
};

/** `setTimeout`'s limit (about 24.8 days): a longer wait is taken in steps. */
const maxWaitMs = 2 ** 31 - 1;

/**
 * The local stand-in for the host's timer trigger: runs each timer function at the occurrences of its schedule,
 * `%Setting%` resolved from the app's settings as the host resolves it (`timerSchedule` in src/config.ts), or every
 * `Jobs__Reconciler__IntervalMs` when that is set. Never two runs of one function at once (the host takes a singleton
 * lock for that); an occurrence that passes while a run is under way is skipped. Waits for a run under way on close.
 */
export class TimerRunner {
  private readonly stopping = new AbortController();
  private readonly loops: Promise<void>[] = [];
  private readonly timers: { definition: TimerFunctionDefinition; next: (after: Date) => Date | undefined }[];

  /** Resolves every schedule at once: a schedule that names no setting stops start-up here, naming it. */
  constructor(
    definitions: readonly TimerFunctionDefinition[],
    config: AppConfig,
    private readonly logger: Logger,
    private readonly clock: Clock = unrefClock,
  ) {
    const { intervalMs } = config.reconciler;
    this.timers = definitions.map((definition) => {
      if (intervalMs !== undefined)
        return { definition, next: (after) => new Date(after.getTime() + intervalMs) };
      const schedule = timerSchedule(definition.schedule, config);
      return { definition, next: (after) => schedule.next(after) };
    });
  }

  start(): void {
    for (const { definition, next } of this.timers) this.loops.push(this.run(definition, next));
  }

  async close(): Promise<void> {
    this.stopping.abort();
    await Promise.all(this.loops);
  }

  private async run(
    definition: TimerFunctionDefinition,
    next: (after: Date) => Date | undefined,
  ): Promise<void> {
    const { signal } = this.stopping;
    let at = next(this.clock.now());
    while (!signal.aborted) {
      if (!at) {
        this.logger.warn('Timer function never runs: its schedule has no occurrence', {
          function: definition.name,
          schedule: definition.schedule,
        });
        return;
      }
      const waitMs = at.getTime() - this.clock.now().getTime();
      try {
        if (waitMs > 0) await this.clock.sleep(Math.min(waitMs, maxWaitMs), signal);
      } catch {
        return;
      }
      if (signal.aborted) return;
      if (this.clock.now() < at) continue;
      const following = next(at);
      await this.invoke(definition, at, following);
      // Occurrences that passed during the run are skipped, as the host skips them.
      at = following && following > this.clock.now() ? following : next(this.clock.now());
    }
  }

  private async invoke(definition: TimerFunctionDefinition, at: Date, next: Date | undefined): Promise<void> {
    const now = this.clock.now().toISOString();
    const timer: Timer = {
      isPastDue: false,
      schedule: { adjustForDST: false },
      scheduleStatus: { last: at.toISOString(), next: next?.toISOString() ?? '', lastUpdated: now },
    };
    const context = new InvocationContext({
      invocationId: randomUUID(),
      functionName: definition.name,
      logHandler: (level, ...args) =>
        this.logger.debug('Function log', { level, message: args.map(String).join(' ') }),
    });
    try {
      await definition.handler(timer, context);
    } catch (error) {
      this.logger.warn('Timer function failed; it runs again at its next occurrence', {
        function: definition.name,
        error: errorMessage(error),
      });
    }
  }
}
