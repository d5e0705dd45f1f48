import { z } from 'zod';
import { HandlerRegistry } from '../../src/jobs/jobTypes/handlerRegistry';
import type { JobHandler, JobHandlerContext } from '../../src/jobs/jobTypes/jobHandler';
import { defineJobHandler } from '../../src/jobs/jobTypes/jobHandler';
import { JobDispatcher } from '../../src/jobs/dispatch/jobDispatcher';
import type { JobTypePolicyDefaults } from '../../src/jobs/jobTypes/jobTypePolicy';
import type { JobDispatcherOptions } from '../../src/jobs/dispatch/jobDispatcher';
import { silentLogger } from '../../src/jobs/support/logger';
import type { JobQueue } from '../../src/jobs/ports/jobQueue';
import type { OutgoingJobMessage } from '../../src/jobs/model/outgoingJobMessage';
import { InMemoryJobStore } from '../../src/store/inMemoryJobStore';

/** A handler whose behaviour each test sets, recording every run. */
export function scriptedHandler(jobType = 'test.scripted') {
  const runs: JobHandlerContext[] = [];
  let behaviour: (context: JobHandlerContext) => Promise<void> = async () => undefined;
  const handler: JobHandler<{ value: number; note?: string | undefined }> = defineJobHandler({
    jobType,
    payloadSchema: z.object({ value: z.number(), note: z.string().optional() }),
    async handle(_payload, context) {
      runs.push(context);
      await behaviour(context);
    },
  });
  return {
    handler,
    runs,
    behave(next: (context: JobHandlerContext) => Promise<void>) {
      behaviour = next;
    },
  };
}

/** Records schedule calls; a fake of the queue port for dispatcher unit tests. */
class RecordingRetryQueue implements Pick<JobQueue, 'schedule'> {
  readonly scheduled: Array<{ message: OutgoingJobMessage; enqueueAt: Date }> = [];
  failWith: Error | undefined;

  async schedule(message: OutgoingJobMessage, enqueueAt: Date): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.scheduled.push({ message, enqueueAt });
  }
}

/** The app-wide policy dispatcher tests start from: quick, so a test can see retries and timeouts. */
const testPolicyDefaults: JobTypePolicyDefaults = {
  defaultMaxAttempts: 3,
  handlerTimeoutMs: 5_000,
  retry: { baseDelayMs: 1_000, maxDelayMs: 60_000, jitter: 0.2 },
};

export function dispatcherFor(
  handlers: JobHandler[],
  { policy, ...options }: Partial<JobDispatcherOptions> & { policy?: Partial<JobTypePolicyDefaults> } = {},
) {
  const store = options.store ?? new InMemoryJobStore();
  const retryQueue = new RecordingRetryQueue();
  const dispatcher = new JobDispatcher({
    registry: new HandlerRegistry(handlers, { ...testPolicyDefaults, ...policy }),
    retryQueue,
    logger: silentLogger,
    ...options,
    store,
  });
  return { dispatcher, store, retryQueue };
}
