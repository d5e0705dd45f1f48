import { AsyncLocalStorage } from 'node:async_hooks';
import type { InvocationContext } from '@azure/functions';
import type { LogWriter } from '../jobs/support/logger';

interface RunningInvocation {
  readonly context: InvocationContext;
  running: boolean;
}

const invocations = new AsyncLocalStorage<RunningInvocation>();

/**
 * Runs a function's handler with its invocation context as the destination of the app's log lines (see
 * {@link toInvocationLogs}). Work the handler leaves running after it returns logs to the fallback: the host warns
 * about, and may drop, an invocation's logs after it has ended.
 */
export function withInvocationLogs<TTrigger, TResult>(
  handler: (trigger: TTrigger, context: InvocationContext) => TResult | Promise<TResult>,
): (trigger: TTrigger, context: InvocationContext) => Promise<TResult> {
  return (trigger, context) => {
    const invocation: RunningInvocation = { context, running: true };
    return invocations.run(invocation, async () => {
      try {
        return await handler(trigger, context);
      } finally {
        invocation.running = false;
      }
    });
  };
}

/**
 * A writer that sends each line through the running invocation's `context.debug/info/warn/error`, so that in the
 * Functions host it reaches Application Insights as a trace of that invocation (its `operation_Id`), at its level.
 * Lines written outside an invocation (start-up, shutdown) go to `fallback`.
 */
export function toInvocationLogs(fallback: LogWriter): LogWriter {
  return (line, level) => {
    const invocation = invocations.getStore();
    if (invocation?.running) invocation.context[level](line);
    else fallback(line, level);
  };
}
