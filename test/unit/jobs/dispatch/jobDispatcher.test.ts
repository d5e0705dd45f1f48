import { fastForwardClock } from '../../../support/manualClock';
import {
  InfrastructureError,
  PermanentJobError,
  RetryLaterError,
  TransientJobError,
} from '../../../../src/jobs/errors';
import type { JobMessage } from '../../../../src/jobs/model/jobMessage';
import { toWireBody } from '../../../../src/jobs/model/jobMessage';
import { newJobRecord } from '../../../../src/jobs/model/jobRecord';
import type { Logger } from '../../../../src/jobs/support/logger';
import type { ReceivedJobMessage } from '../../../../src/jobs/model/receivedJobMessage';
import { InMemoryJobStore } from '../../../../src/store/inMemoryJobStore';
import { createNewRecord, jobMessage } from '../../../support/jobFixtures';
import { dispatcherFor, scriptedHandler } from '../../../support/testRuntimeParts';

function received(job: JobMessage, deliveryCount = 1): ReceivedJobMessage {
  return { body: JSON.stringify(toWireBody(job)), messageId: job.jobId, deliveryCount };
}

function scriptedJob(overrides: Partial<JobMessage> = {}): JobMessage {
  return jobMessage({ jobType: 'test.scripted', payload: { value: 1 }, ...overrides });
}

describe('JobDispatcher', () => {
  it('completes a job whose handler succeeds and records the outcome', async () => {
    const scripted = scriptedHandler();
    const { dispatcher, store } = dispatcherFor([scripted.handler]);
    const job = scriptedJob();

    const settlement = await dispatcher.dispatch(received(job));

    expect(settlement).toEqual({ kind: 'complete' });
    expect(scripted.runs).toHaveLength(1);
    expect(scripted.runs[0]?.attempt).toBe(1);
    const record = (await store.get(job.jobId))?.record;
    expect(record).toMatchObject({
      status: 'Completed',
      attempt: 1,
      lastOutcome: { status: 'Completed', attempt: 1 },
    });
    expect(record?.completedAt).not.toBeNull();
  });

  it('dead-letters a body that is not a job as InvalidFormat, saying why', async () => {
    const { dispatcher } = dispatcherFor([]);

    const settlement = await dispatcher.dispatch({ body: 'not json', deliveryCount: 1 });

    expect(settlement).toMatchObject({ kind: 'deadLetter', reason: 'InvalidFormat' });
    expect(settlement.kind === 'deadLetter' && settlement.description).toMatch(/not JSON/);
  });

  it('dead-letters an unknown job type as NoHandler and records it', async () => {
    const { dispatcher, store } = dispatcherFor([scriptedHandler().handler]);
    const job = scriptedJob({ jobType: 'nobody.handles.this' });

    const settlement = await dispatcher.dispatch(received(job));

    expect(settlement).toMatchObject({ kind: 'deadLetter', reason: 'NoHandler' });
    expect((await store.get(job.jobId))?.record).toMatchObject({
      status: 'DeadLettered',
      deadLetterReason: 'NoHandler',
    });
  });

  it('dead-letters a payload that fails its schema as InvalidPayload, naming the field', async () => {
    const scripted = scriptedHandler();
    const { dispatcher } = dispatcherFor([scripted.handler]);

    const settlement = await dispatcher.dispatch(received(scriptedJob({ payload: { value: 'one' } })));

    expect(settlement).toMatchObject({ kind: 'deadLetter', reason: 'InvalidPayload' });
    expect(settlement.kind === 'deadLetter' && settlement.description).toMatch(/payload\.value/);
    expect(scripted.runs).toHaveLength(0);
  });

  it('schedules a retry copy with attempt + 1 after a transient failure, then completes the original', async () => {
    const scripted = scriptedHandler();
    scripted.behave(async () => {
      throw new Error('flaky');
    });
    const now = new Date('2026-01-01T00:00:00Z');
    const { dispatcher, store, retryQueue } = dispatcherFor([scripted.handler], {
      now: () => now,
      random: () => 0.5,
    });
    const job = scriptedJob();

    const settlement = await dispatcher.dispatch(received(job));

    expect(settlement).toEqual({ kind: 'complete' });
    expect(retryQueue.scheduled).toHaveLength(1);
    const [retry] = retryQueue.scheduled;
    expect(retry?.message.job).toEqual({ ...job, attempt: 2 });
    expect(retry?.message.messageId).not.toBe(job.jobId);
    expect(retry?.enqueueAt.getTime()).toBe(now.getTime() + 1_000);
    expect((await store.get(job.jobId))?.record).toMatchObject({
      status: 'Retrying',
      attempt: 1,
      nextAttemptAt: '2026-01-01T00:00:01.000Z',
      lastOutcome: { status: 'Failed', errorMessage: 'flaky' },
    });
  });

  it('dead-letters as MaxRetriesExceeded when the last attempt fails', async () => {
    const scripted = scriptedHandler();
    scripted.behave(async () => {
      throw new TransientJobError('still down');
    });
    const { dispatcher, store, retryQueue } = dispatcherFor([scripted.handler]);
    const job = scriptedJob({ attempt: 3, maxAttempts: 3 });

    const settlement = await dispatcher.dispatch(received(job));

    expect(settlement).toMatchObject({ kind: 'deadLetter', reason: 'MaxRetriesExceeded' });
    expect(settlement.kind === 'deadLetter' && settlement.description).toMatch(
      /Failed 3 of 3 attempts; last error: still down/,
    );
    expect(retryQueue.scheduled).toHaveLength(0);
    expect((await store.get(job.jobId))?.record).toMatchObject({
      status: 'DeadLettered',
      deadLetterReason: 'MaxRetriesExceeded',
    });
  });

  it('dead-letters as Poisoned after one run when the handler reports a permanent failure', async () => {
    const scripted = scriptedHandler();
    scripted.behave(async () => {
      throw new PermanentJobError('document is corrupt');
    });
    const { dispatcher, retryQueue } = dispatcherFor([scripted.handler]);

    const settlement = await dispatcher.dispatch(received(scriptedJob()));

    expect(settlement).toEqual({
      kind: 'deadLetter',
      reason: 'Poisoned',
      description: 'document is corrupt',
    });
    expect(scripted.runs).toHaveLength(1);
    expect(retryQueue.scheduled).toHaveLength(0);
  });

  it('does not spend attempts on redeliveries that never ran the handler', async () => {
    const scripted = scriptedHandler();
    const { dispatcher } = dispatcherFor([scripted.handler]);
    const job = scriptedJob({ attempt: 1, maxAttempts: 2 });

    const settlement = await dispatcher.dispatch(received(job, 5));

    expect(settlement).toEqual({ kind: 'complete' });
    expect(scripted.runs.map((run) => run.attempt)).toEqual([1]);
  });

  it('counts a run cut short as an attempt: its redelivery on the last attempt is dead-lettered', async () => {
    const scripted = scriptedHandler();
    const { dispatcher, store } = dispatcherFor([scripted.handler]);
    const job = scriptedJob({ maxAttempts: 2, attempt: 2 });
    await store.create({ ...newJobRecord(job, new Date()), status: 'Running', attempt: 2 });

    const settlement = await dispatcher.dispatch(received(job, 2));

    expect(settlement).toMatchObject({ kind: 'deadLetter', reason: 'MaxRetriesExceeded' });
    expect(scripted.runs).toHaveLength(0);
  });

  it('completes a redelivery of a completed job without running the handler again', async () => {
    const scripted = scriptedHandler();
    const { dispatcher } = dispatcherFor([scripted.handler]);
    const job = scriptedJob();
    await dispatcher.dispatch(received(job));

    const settlement = await dispatcher.dispatch(received(job, 2));

    expect(settlement).toEqual({ kind: 'complete' });
    expect(scripted.runs).toHaveLength(1);
  });

  it('keeps dead-lettering a dead-lettered job with its recorded reason, without running it', async () => {
    const scripted = scriptedHandler();
    scripted.behave(async () => {
      throw new PermanentJobError('bad input');
    });
    const { dispatcher } = dispatcherFor([scripted.handler]);
    const job = scriptedJob();
    await dispatcher.dispatch(received(job));

    const again = await dispatcher.dispatch(received(job, 2));

    expect(again).toEqual({ kind: 'deadLetter', reason: 'Poisoned', description: 'bad input' });
    expect(scripted.runs).toHaveLength(1);
  });

  it('completes the original of a retried job that has since dead-lettered: only its last attempt is dead-lettered', async () => {
    const scripted = scriptedHandler();
    scripted.behave(async () => {
      throw new TransientJobError('still down');
    });
    const { dispatcher, store, retryQueue } = dispatcherFor([scripted.handler]);
    const original = scriptedJob({ maxAttempts: 2 });
    await dispatcher.dispatch(received(original));
    const retry = retryQueue.scheduled[0]!.message.job;
    const last = await dispatcher.dispatch(received(retry));

    // The original's complete was lost (a broker cut): it comes back once its retry copy has dead-lettered the job.
    const originalAgain = await dispatcher.dispatch(received(original, 2));
    const lastAgain = await dispatcher.dispatch(received(retry, 2));

    expect(last).toMatchObject({ kind: 'deadLetter', reason: 'MaxRetriesExceeded' });
    expect(originalAgain).toEqual({ kind: 'complete' });
    expect(lastAgain).toMatchObject({ kind: 'deadLetter', reason: 'MaxRetriesExceeded' });
    expect(scripted.runs.map((run) => run.attempt)).toEqual([1, 2]);
    expect((await store.get(original.jobId))?.record).toMatchObject({
      status: 'DeadLettered',
      attempt: 2,
      deliveredAttempt: 2,
    });
  });

  it('keeps a record small enough for one Table Storage property: the latest 20 outcomes, messages shortened', async () => {
    const scripted = scriptedHandler();
    scripted.behave(async () => {
      throw new Error('x'.repeat(10_000));
    });
    const { dispatcher, store } = dispatcherFor([scripted.handler]);
    const job = scriptedJob({ maxAttempts: 25 });

    for (let attempt = 1; attempt <= 25; attempt += 1)
      await dispatcher.dispatch(received({ ...job, attempt }));

    const record = (await store.get(job.jobId))?.record;
    expect(record?.outcomes.map((outcome) => outcome.attempt)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 6),
    );
    expect(record?.outcomes.every((outcome) => (outcome.errorMessage?.length ?? 0) <= 1024)).toBe(true);
    expect(JSON.stringify(record).length).toBeLessThan(32_000);
  });

  it('times out a slow handler: its signal aborts and the job is retried', async () => {
    const scripted = scriptedHandler();
    scripted.behave(
      (context) =>
        new Promise((_, reject) =>
          context.signal.addEventListener('abort', () => reject(context.signal.reason)),
        ),
    );
    const { dispatcher, store, retryQueue } = dispatcherFor([scripted.handler], {
      policy: { handlerTimeoutMs: 20 },
    });
    const job = scriptedJob();

    const settlement = await dispatcher.dispatch(received(job));

    expect(settlement).toEqual({ kind: 'complete' });
    expect(scripted.runs[0]?.signal.aborted).toBe(true);
    expect(retryQueue.scheduled).toHaveLength(1);
    expect((await store.get(job.jobId))?.record?.lastOutcome?.errorMessage).toMatch(
      /did not finish within 20 ms/,
    );
  });

  it("runs a job under its type's own timeout and backoff, and a handler's retry-after over the backoff", async () => {
    const scripted = scriptedHandler();
    const limited = {
      ...scripted.handler,
      policy: { handlerTimeoutMs: 20, retry: { baseDelayMs: 40_000, jitter: 0 } },
    };
    scripted.behave(() => new Promise(() => undefined));
    const now = new Date('2026-01-01T00:00:00Z');
    const { dispatcher, retryQueue } = dispatcherFor([limited], { now: () => now });

    await dispatcher.dispatch(received(scriptedJob()));
    scripted.behave(async () => Promise.reject(new RetryLaterError('429: Retry-After 7', 7_000)));
    await dispatcher.dispatch(received(scriptedJob({ attempt: 2 })));

    expect(retryQueue.scheduled.map(({ enqueueAt }) => enqueueAt.getTime() - now.getTime())).toEqual([
      40_000, 7_000,
    ]);
  });

  it('settles at the timeout even when the handler ignores its signal', async () => {
    const scripted = scriptedHandler();
    scripted.behave(() => new Promise(() => undefined));
    const { dispatcher } = dispatcherFor([scripted.handler], { policy: { handlerTimeoutMs: 20 } });

    const settlement = await dispatcher.dispatch(received(scriptedJob({ maxAttempts: 1 })));

    expect(settlement).toMatchObject({ kind: 'deadLetter', reason: 'MaxRetriesExceeded' });
  });

  it('abandons a job interrupted by shutdown, so another instance picks it up', async () => {
    const shutdown = new AbortController();
    const scripted = scriptedHandler();
    scripted.behave(async (context) => {
      shutdown.abort();
      context.signal.throwIfAborted();
    });
    const { dispatcher, retryQueue } = dispatcherFor([scripted.handler], { shutdownSignal: shutdown.signal });

    const settlement = await dispatcher.dispatch(received(scriptedJob()));

    expect(settlement).toMatchObject({ kind: 'abandon' });
    expect(retryQueue.scheduled).toHaveLength(0);
  });

  it('does not start a job that arrives after shutdown began, and spends no attempt on it', async () => {
    const shutdown = new AbortController();
    const scripted = scriptedHandler();
    const { dispatcher, store } = dispatcherFor([scripted.handler], { shutdownSignal: shutdown.signal });
    const job = scriptedJob();
    shutdown.abort();

    const settlement = await dispatcher.dispatch(received(job));

    expect(settlement).toMatchObject({ kind: 'abandon' });
    expect(scripted.runs).toHaveLength(0);
    expect((await store.get(job.jobId))?.record).toMatchObject({ status: 'Queued', attempt: 0 });
  });

  it('holds the message through a store outage shorter than the tolerance, then runs the job once', async () => {
    const scripted = scriptedHandler();
    const store = new InMemoryJobStore();
    const get = store.get.bind(store);
    let outageCalls = 3;
    store.get = async (jobId) => {
      if (outageCalls-- > 0) throw new InfrastructureError('StoreUnavailable', 'table service down');
      return get(jobId);
    };
    const { dispatcher } = dispatcherFor([scripted.handler], {
      store,
      outageToleranceMs: 30_000,
      clock: fastForwardClock(),
    });

    const settlement = await dispatcher.dispatch(received(scriptedJob()));

    expect(settlement).toEqual({ kind: 'complete' });
    expect(scripted.runs).toHaveLength(1);
    expect(outageCalls).toBe(-1);
  });

  it('abandons without running the handler when the store stays unavailable past the tolerance', async () => {
    const scripted = scriptedHandler();
    const store = new InMemoryJobStore();
    let calls = 0;
    store.get = async () => {
      calls += 1;
      throw new InfrastructureError('StoreUnavailable', 'table service down');
    };
    const { dispatcher } = dispatcherFor([scripted.handler], {
      store,
      outageToleranceMs: 600,
      clock: fastForwardClock(),
    });

    const settlement = await dispatcher.dispatch(received(scriptedJob()));

    expect(settlement).toMatchObject({
      kind: 'abandon',
      description: expect.stringMatching(/table service down/),
    });
    expect(scripted.runs).toHaveLength(0);
    expect(calls).toBeGreaterThan(1);
  });

  it('abandons the original when its retry cannot be scheduled, so nothing is lost', async () => {
    const scripted = scriptedHandler();
    scripted.behave(async () => {
      throw new Error('flaky');
    });
    const { dispatcher, retryQueue } = dispatcherFor([scripted.handler], { outageToleranceMs: 0 });
    retryQueue.failWith = new InfrastructureError('QueueUnavailable', 'broker unreachable');

    const settlement = await dispatcher.dispatch(received(scriptedJob()));

    expect(settlement).toMatchObject({
      kind: 'abandon',
      description: expect.stringMatching(/broker unreachable/),
    });
  });

  describe('failure windows', () => {
    it('when the original of a failed attempt comes back after its retry was scheduled, then it schedules the same copy again and never runs', async () => {
      const scripted = scriptedHandler();
      scripted.behave(async () => {
        throw new Error('flaky');
      });
      const { dispatcher, retryQueue } = dispatcherFor([scripted.handler]);
      const job = scriptedJob();
      await dispatcher.dispatch(received(job));

      // Completing the original failed (a broker cut): the broker delivers it again.
      const again = await dispatcher.dispatch(received(job, 2));

      expect(again).toEqual({ kind: 'complete' });
      expect(scripted.runs).toHaveLength(1);
      const ids = retryQueue.scheduled.map(({ message }) => message.messageId);
      expect(ids).toEqual([`${job.jobId}:attempt-2`, `${job.jobId}:attempt-2`]);
      expect(retryQueue.scheduled[1]?.enqueueAt).toEqual(retryQueue.scheduled[0]?.enqueueAt);
    });

    it('when the process dies between recording a retry and scheduling it, then the redelivered original schedules it', async () => {
      const scripted = scriptedHandler();
      scripted.behave(async () => {
        throw new Error('flaky');
      });
      const { dispatcher, retryQueue, store } = dispatcherFor([scripted.handler], { outageToleranceMs: 0 });
      const job = scriptedJob();
      retryQueue.failWith = new InfrastructureError('QueueUnavailable', 'broker unreachable');
      const lost = await dispatcher.dispatch(received(job));
      retryQueue.failWith = undefined;

      const redelivered = await dispatcher.dispatch(received(job, 2));

      expect(lost.kind).toBe('abandon');
      expect(redelivered).toEqual({ kind: 'complete' });
      expect(scripted.runs).toHaveLength(1);
      expect(retryQueue.scheduled.map(({ message }) => message.job.attempt)).toEqual([2]);
      expect((await store.get(job.jobId))?.record).toMatchObject({ status: 'Retrying', attempt: 1 });
    });

    it('when a write was applied but its answer lost, then it is recognised as ours: one outcome, one completion', async () => {
      const scripted = scriptedHandler();
      const store = new InMemoryJobStore();
      const replace = store.replace.bind(store);
      let lostAnswers = 0;
      store.replace = async (record, etag) => {
        const written = await replace(record, etag);
        if (record.status === 'Completed' && lostAnswers++ === 0)
          throw new InfrastructureError('StoreUnavailable', 'connection reset after the write');
        return written;
      };
      const logged: string[] = [];
      const logger: Logger = {
        debug: () => undefined,
        info: (message) => logged.push(message),
        warn: () => undefined,
        error: () => undefined,
        child: () => logger,
      };
      const { dispatcher } = dispatcherFor([scripted.handler], {
        store,
        logger,
        outageToleranceMs: 10_000,
        clock: fastForwardClock(),
      });
      const job = scriptedJob();

      const settlement = await dispatcher.dispatch(received(job));

      expect(settlement).toEqual({ kind: 'complete' });
      const record = (await store.get(job.jobId))?.record;
      expect(record?.status).toBe('Completed');
      expect(record?.outcomes).toHaveLength(1);
      expect(logged).toContain('Job completed');
      expect(logged).not.toContain('Job completed, but another worker had settled it first');
    });

    it('when a message that carries a record version finds no record, then the record is made from the message and the job runs (nothing infers a refused submission)', async () => {
      const scripted = scriptedHandler();
      const { dispatcher, store } = dispatcherFor([scripted.handler]);
      const job = scriptedJob();

      const settlement = await dispatcher.dispatch({ ...received(job), recordEtag: '7' });

      expect(settlement).toEqual({ kind: 'complete' });
      expect(scripted.runs).toHaveLength(1);
      expect((await store.get(job.jobId))?.record).toMatchObject({ status: 'Completed', attempt: 1 });
    });

    it("when another producer's job has no record, then one is created with the job's body", async () => {
      const scripted = scriptedHandler();
      const { dispatcher, store } = dispatcherFor([scripted.handler]);
      const job = scriptedJob();

      await dispatcher.dispatch(received(job));

      expect(JSON.parse((await store.get(job.jobId))?.body ?? 'null')).toMatchObject({ jobId: job.jobId });
    });

    it('when a message of an earlier attempt cycle arrives after a replay, then it completes without running', async () => {
      const scripted = scriptedHandler();
      const { dispatcher, store } = dispatcherFor([scripted.handler]);
      const job = scriptedJob({ attempt: 2 });
      await store.create({ ...newJobRecord(job, new Date()), cycle: 2, attempt: 0 });

      const stale = await dispatcher.dispatch(received(job));
      const replayed = await dispatcher.dispatch({ ...received({ ...job, attempt: 1 }), cycle: 2 });

      expect(stale).toEqual({ kind: 'complete' });
      expect(replayed).toEqual({ kind: 'complete' });
      expect(scripted.runs.map((run) => run.attempt)).toEqual([1]);
      expect((await store.get(job.jobId))?.record).toMatchObject({
        status: 'Completed',
        cycle: 2,
        attempt: 1,
      });
    });
  });

  describe('claims', () => {
    it('lets only one of two concurrent deliveries of a job run the handler', async () => {
      const scripted = scriptedHandler();
      let release: () => void = () => undefined;
      scripted.behave(() => new Promise<void>((resolve) => (release = resolve)));
      const { dispatcher, retryQueue, store } = dispatcherFor([scripted.handler]);
      const job = scriptedJob();

      const first = dispatcher.dispatch(received(job));
      const second = dispatcher.dispatch(received(job));
      const secondSettlement = await second;
      release();

      expect(await first).toEqual({ kind: 'complete' });
      expect(secondSettlement).toEqual({ kind: 'complete' });
      expect(scripted.runs).toHaveLength(1);
      expect(retryQueue.scheduled).toHaveLength(1);
      expect(retryQueue.scheduled[0]?.message.job.attempt).toBe(job.attempt);
      expect((await store.get(job.jobId))?.record.status).toBe('Completed');
    });

    it('looks again when a live claim runs out, without running the handler or spending an attempt', async () => {
      const scripted = scriptedHandler();
      const now = new Date('2026-01-01T00:00:00Z');
      const { dispatcher, store, retryQueue } = dispatcherFor([scripted.handler], { now: () => now });
      const job = scriptedJob();
      const claimExpiresAt = '2026-01-01T00:01:00.000Z';
      await store.create({
        ...newJobRecord(job, now),
        status: 'Running',
        attempt: 1,
        claimedBy: 'other',
        claimExpiresAt,
      });

      const settlement = await dispatcher.dispatch(received(job, 2));

      expect(settlement).toEqual({ kind: 'complete' });
      expect(scripted.runs).toHaveLength(0);
      expect(retryQueue.scheduled.map(({ enqueueAt }) => enqueueAt.toISOString())).toEqual([claimExpiresAt]);
    });

    it('takes over a claim whose holder died, counting the dead run as an attempt', async () => {
      const scripted = scriptedHandler();
      const { dispatcher, store } = dispatcherFor([scripted.handler], { workerId: 'survivor' });
      const job = scriptedJob();
      await store.create({
        ...newJobRecord(job, new Date()),
        status: 'Running',
        attempt: 1,
        claimedBy: 'dead-worker',
        claimExpiresAt: new Date(Date.now() - 1_000).toISOString(),
      });

      const settlement = await dispatcher.dispatch(received(job, 1));

      expect(settlement).toEqual({ kind: 'complete' });
      expect(scripted.runs.map((run) => run.attempt)).toEqual([2]);
      expect((await store.get(job.jobId))?.record).toMatchObject({
        status: 'Completed',
        attempt: 2,
        claimedBy: null,
      });
    });

    it('claims the job for the handler timeout plus the grace period while it runs', async () => {
      const scripted = scriptedHandler();
      const now = new Date('2026-01-01T00:00:00Z');
      const { dispatcher, store } = dispatcherFor([scripted.handler], {
        now: () => now,
        workerId: 'worker-a',
        policy: { handlerTimeoutMs: 5_000 },
        claimGraceMs: 1_000,
      });
      const job = scriptedJob();
      let seen: unknown;
      scripted.behave(async () => {
        seen = (await store.get(job.jobId))?.record;
      });

      await dispatcher.dispatch(received(job));

      expect(seen).toMatchObject({
        status: 'Running',
        claimedBy: 'worker-a',
        claimExpiresAt: '2026-01-01T00:00:06.000Z',
      });
    });

    it('records a result on the latest version when the record changed while the handler ran', async () => {
      const scripted = scriptedHandler();
      const { dispatcher, store } = dispatcherFor([scripted.handler]);
      const job = scriptedJob({ subjectId: 'before' });
      scripted.behave(async () => {
        const stored = await store.get(job.jobId);
        if (stored) await store.replace({ ...stored.record, subjectId: 'changed meanwhile' }, stored.etag);
      });

      const settlement = await dispatcher.dispatch(received(job));

      expect(settlement).toEqual({ kind: 'complete' });
      expect((await store.get(job.jobId))?.record).toMatchObject({
        status: 'Completed',
        subjectId: 'changed meanwhile',
      });
    });
  });

  describe('the record version carried by a message from our submission', () => {
    it('lets the first delivery claim the job without reading its record', async () => {
      const scripted = scriptedHandler();
      const { dispatcher, store } = dispatcherFor([scripted.handler]);
      const job = scriptedJob();
      const { etag } = await createNewRecord(store, newJobRecord(job, new Date()));
      const reads = jest.spyOn(store, 'get');

      const settlement = await dispatcher.dispatch({ ...received(job), recordEtag: etag });

      expect(settlement).toEqual({ kind: 'complete' });
      expect(reads).not.toHaveBeenCalled();
      expect((await store.get(job.jobId))?.record).toMatchObject({ status: 'Completed', attempt: 1 });
    });

    it('reads the record when the carried version is stale, so a completed job is not run again', async () => {
      const scripted = scriptedHandler();
      const { dispatcher, store } = dispatcherFor([scripted.handler]);
      const job = scriptedJob();
      const { etag } = await createNewRecord(store, newJobRecord(job, new Date()));
      await dispatcher.dispatch({ ...received(job), recordEtag: etag });

      const redelivery = await dispatcher.dispatch({ ...received(job, 2), recordEtag: etag });

      expect(redelivery).toEqual({ kind: 'complete' });
      expect(scripted.runs).toHaveLength(1);
    });

    it('is not tried on a redelivery, which reads the record first: no write with the version it carries', async () => {
      const scripted = scriptedHandler();
      const { dispatcher, store } = dispatcherFor([scripted.handler]);
      const job = scriptedJob();
      const { etag } = await createNewRecord(store, newJobRecord(job, new Date()));
      await dispatcher.dispatch({ ...received(job), recordEtag: etag });
      const writes = jest.spyOn(store, 'replace');

      const redelivery = await dispatcher.dispatch({ ...received(job, 2), recordEtag: etag });

      expect(redelivery).toEqual({ kind: 'complete' });
      expect(writes.mock.calls.filter(([, written]) => written === etag)).toEqual([]);
      expect(scripted.runs).toHaveLength(1);
    });
  });
});
