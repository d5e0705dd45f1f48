import { randomUUID } from 'node:crypto';
import type { Timer } from '@azure/functions';
import { InvocationContext } from '@azure/functions';
import type { TimerFunctionDefinition } from '../../src/functions/functionTable';
import { errorMessage } from '../../src/jobs/errors';
import type { Logger } from '../../src/jobs/support/logger';

/**
 * The local stand-in for the host's timer trigger: runs each timer function every `intervalMs`, never two runs of
 * one function at once (the host takes a singleton lock for that), and waits for a run under way on close.
 */
export class TimerRunner {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly running = new Map<string, Promise<void>>();
  private closed = false;

  constructor(
    private readonly definitions: readonly TimerFunctionDefinition[],
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    for (const definition of this.definitions) {
      const timer = setInterval(() => this.tick(definition), this.intervalMs);
      timer.unref();
      this.timers.push(timer);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.timers.forEach((timer) => clearInterval(timer));
    await Promise.all(this.running.values());
  }

  private tick(definition: TimerFunctionDefinition): void {
    if (this.closed || this.running.has(definition.name)) return;
    const run = this.invoke(definition).finally(() => this.running.delete(definition.name));
    this.running.set(definition.name, run);
  }

  private async invoke(definition: TimerFunctionDefinition): Promise<void> {
    const now = new Date().toISOString();
    const timer: Timer = {
      isPastDue: false,
      schedule: { adjustForDST: false },
      scheduleStatus: {
        last: now,
        next: new Date(Date.now() + this.intervalMs).toISOString(),
        lastUpdated: now,
      },
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
      this.logger.warn('Timer function failed; it runs again at its next interval', {
        function: definition.name,
        error: errorMessage(error),
      });
    }
  }
}
