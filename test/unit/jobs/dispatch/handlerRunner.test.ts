import { setTimeout as sleep } from 'node:timers/promises';
import { defineJobHandler } from '../../../../src/jobs/jobTypes/jobHandler';
import { PermanentJobError, RetryLaterError } from '../../../../src/jobs/errors';
import { HandlerRunner } from '../../../../src/jobs/dispatch/handlerRunner';
import { silentLogger } from '../../../../src/jobs/support/logger';
import { z } from 'zod';
import { jobMessage } from '../../../support/jobFixtures';

function handlerThat(handle: (signal: AbortSignal) => Promise<void>) {
  return defineJobHandler({
    jobType: 'test.runner',
    payloadSchema: z.unknown(),
    handle: (_payload, context) => handle(context.signal),
  });
}

function call(handler: ReturnType<typeof handlerThat>, timeoutMs = 5_000) {
  return { handler, payload: {}, job: jobMessage(), cycle: 1, attempt: 1, logger: silentLogger, timeoutMs };
}

describe('HandlerRunner', () => {
  it('cuts each run short at its own deadline, whatever the order the runs started in', async () => {
    const runner = new HandlerRunner({});
    const hang = handlerThat(() => new Promise(() => undefined));
    const finished: number[] = [];

    await Promise.all(
      [400, 40, 200].map((timeoutMs) =>
        runner.run(call(hang, timeoutMs)).then(() => finished.push(timeoutMs)),
      ),
    );

    expect(finished).toEqual([40, 200, 400]);
  });

  it('says a run completed, failed or was poisoned as its handler did', async () => {
    const runner = new HandlerRunner({});

    const completed = await runner.run(call(handlerThat(async () => undefined)));
    const failed = await runner.run(call(handlerThat(async () => Promise.reject(new Error('flaky')))));
    const poisoned = await runner.run(
      call(handlerThat(async () => Promise.reject(new PermanentJobError('bad input')))),
    );

    expect(completed).toEqual({ status: 'Completed' });
    expect(failed).toMatchObject({ status: 'Failed', error: 'flaky', interruptedByShutdown: false });
    expect(poisoned).toMatchObject({ status: 'Poisoned', error: 'bad input', interruptedByShutdown: false });
  });

  it("keeps the run's signal on a copy of the context a handler spreads", async () => {
    const runner = new HandlerRunner({});
    let copied: { signal?: unknown } = {};
    const spreading = defineJobHandler({
      jobType: 'test.runner',
      payloadSchema: z.unknown(),
      handle: async (_payload, context) => {
        copied = { ...context };
      },
    });

    await runner.run(call(spreading));

    expect(copied.signal).toBeInstanceOf(AbortSignal);
  });

  it('cuts a run short at its deadline, even when the handler ignores its signal', async () => {
    const runner = new HandlerRunner({});
    let signal: AbortSignal | undefined;

    const result = await runner.run(
      call(
        handlerThat(async (given) => {
          signal = given;
          await new Promise(() => undefined);
        }),
        50,
      ),
    );

    expect(result).toMatchObject({ status: 'Failed', error: 'The handler did not finish within 50 ms.' });
    expect(signal?.aborted).toBe(true);
  });

  it('cuts runs under way short on shutdown, and starts none after it', async () => {
    const shutdown = new AbortController();
    const runner = new HandlerRunner({ shutdownSignal: shutdown.signal });
    let started = 0;
    const slow = handlerThat(async (signal) => {
      started += 1;
      await sleep(60_000, undefined, { signal });
    });

    const running = runner.run(call(slow, 60_000));
    shutdown.abort();
    const later = await runner.run(call(slow, 60_000));

    expect(await running).toMatchObject({ status: 'Failed', interruptedByShutdown: true });
    expect(later).toMatchObject({ status: 'Failed', interruptedByShutdown: true });
    expect(started).toBe(1);
  });
});

describe('HandlerRunner and RetryLaterError', () => {
  it('reports the delay a handler asked for, and no delay when the run was cut short', async () => {
    const runner = new HandlerRunner({});

    const asked = await runner.run(
      call(handlerThat(async () => Promise.reject(new RetryLaterError('429 from upstream', 30_000)))),
    );
    const timedOut = await runner.run(
      call(
        handlerThat(async (signal) => {
          await new Promise((resolve) => signal.addEventListener('abort', resolve));
          throw new RetryLaterError('gave up after the abort', 30_000);
        }),
        20,
      ),
    );

    expect(asked).toMatchObject({ status: 'Failed', error: '429 from upstream', retryAfterMs: 30_000 });
    expect(timedOut).toMatchObject({ status: 'Failed', retryAfterMs: undefined });
  });
});
