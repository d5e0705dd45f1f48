import { setTimeout as sleep } from 'node:timers/promises';
import { defineJobHandler } from '../../../src/handlers/jobHandler';
import { PermanentJobError } from '../../../src/jobs/errors';
import { HandlerRunner } from '../../../src/jobs/handlerRunner';
import { silentLogger } from '../../../src/jobs/logger';
import { z } from 'zod';
import { jobMessage } from '../../support/jobFixtures';

function handlerThat(handle: (signal: AbortSignal) => Promise<void>) {
  return defineJobHandler({
    jobType: 'test.runner',
    payloadSchema: z.unknown(),
    handle: (_payload, context) => handle(context.signal),
  });
}

function call(handler: ReturnType<typeof handlerThat>) {
  return { handler, payload: {}, job: jobMessage(), cycle: 1, attempt: 1, logger: silentLogger };
}

describe('HandlerRunner', () => {
  it('says a run completed, failed or was poisoned as its handler did', async () => {
    const runner = new HandlerRunner({ handlerTimeoutMs: 5_000 });

    const completed = await runner.run(call(handlerThat(async () => undefined)));
    const failed = await runner.run(call(handlerThat(async () => Promise.reject(new Error('flaky')))));
    const poisoned = await runner.run(
      call(handlerThat(async () => Promise.reject(new PermanentJobError('bad input')))),
    );

    expect(completed).toEqual({ status: 'Completed' });
    expect(failed).toMatchObject({ status: 'Failed', error: 'flaky', interruptedByShutdown: false });
    expect(poisoned).toMatchObject({ status: 'Poisoned', error: 'bad input', interruptedByShutdown: false });
  });

  it('cuts a run short at its deadline, even when the handler ignores its signal', async () => {
    const runner = new HandlerRunner({ handlerTimeoutMs: 50 });
    let signal: AbortSignal | undefined;

    const result = await runner.run(
      call(
        handlerThat(async (given) => {
          signal = given;
          await new Promise(() => undefined);
        }),
      ),
    );

    expect(result).toMatchObject({ status: 'Failed', error: 'The handler did not finish within 50 ms.' });
    expect(signal?.aborted).toBe(true);
  });

  it('cuts runs under way short on shutdown, and starts none after it', async () => {
    const shutdown = new AbortController();
    const runner = new HandlerRunner({ handlerTimeoutMs: 60_000, shutdownSignal: shutdown.signal });
    let started = 0;
    const slow = handlerThat(async (signal) => {
      started += 1;
      await sleep(60_000, undefined, { signal });
    });

    const running = runner.run(call(slow));
    shutdown.abort();
    const later = await runner.run(call(slow));

    expect(await running).toMatchObject({ status: 'Failed', interruptedByShutdown: true });
    expect(later).toMatchObject({ status: 'Failed', interruptedByShutdown: true });
    expect(started).toBe(1);
  });
});
