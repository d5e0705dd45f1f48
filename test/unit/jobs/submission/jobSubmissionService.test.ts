import { InfrastructureError } from '../../../../src/jobs/errors';
import { jobIdForKey } from '../../../../src/jobs/submission/jobIdForKey';
import type { NewJob } from '../../../../src/jobs/ports/jobStore';
import { JobCancellation } from '../../../../src/jobs/operators/jobCancellation';
import { JobSubmissionService } from '../../../../src/jobs/submission/jobSubmissionService';
import { maxJobMessageBytes } from '../../../../src/jobs/submission/jobSubmissionRequest';
import { silentLogger } from '../../../../src/jobs/support/logger';
import type { JobQueue } from '../../../../src/jobs/ports/jobQueue';
import { OutboxSender } from '../../../../src/jobs/submission/outboxSender';
import type { OutgoingJobMessage } from '../../../../src/jobs/model/outgoingJobMessage';
import { InMemoryJobStore } from '../../../../src/store/inMemoryJobStore';
import { builtInPolicyDefaults } from '../../../../src/jobs/jobTypes/jobTypePolicy';
import { HandlerRegistry } from '../../../../src/jobs/jobTypes/handlerRegistry';
import { ManualClock } from '../../../support/manualClock';
import { scriptedHandler } from '../../../support/testRuntimeParts';

/** A fake of the queue port that records what was sent, or fails. */
class RecordingQueue implements JobQueue {
  readonly transport = 'in-memory' as const;
  readonly queueName = 'test';
  readonly sent: OutgoingJobMessage[] = [];
  sends = 0;
  failWith: Error | undefined;

  async send(messages: readonly OutgoingJobMessage[]): Promise<void> {
    this.sends += 1;
    if (this.failWith) throw this.failWith;
    this.sent.push(...messages);
  }

  async schedule(): Promise<void> {
    throw new Error('not used by submission');
  }

  async close(): Promise<void> {}
}

const brokerDown = () => new InfrastructureError('QueueUnavailable', 'broker refuses connections');

function service({ store = new InMemoryJobStore(), registry = defaultRegistry() } = {}) {
  const queue = new RecordingQueue();
  const clock = new ManualClock();
  const shutdown = new AbortController();
  const sender = new OutboxSender({ queue, logger: silentLogger, clock, shutdownSignal: shutdown.signal });
  const submission = new JobSubmissionService({ registry, store, sender, logger: silentLogger });
  return { submission, store, queue, sender, clock, shutdown };
}

function defaultRegistry() {
  return new HandlerRegistry([scriptedHandler().handler], {
    ...builtInPolicyDefaults,
    defaultMaxAttempts: 4,
  });
}

const valid = { jobType: 'test.scripted', payload: { value: 1 } };

describe('JobSubmissionService', () => {
  it('records a job as Queued and sends it with the contract defaults filled in', async () => {
    const { submission, store, queue } = service();

    const { record, created } = await submission.submit({ ...valid, subjectId: 'doc-1' });

    expect(created).toBe(true);
    expect((await store.get(record.jobId))?.record).toMatchObject({
      status: 'Queued',
      attempt: 0,
      maxAttempts: 4,
      subjectId: 'doc-1',
    });
    expect(queue.sent).toHaveLength(1);
    expect(queue.sent[0]).toMatchObject({
      messageId: record.jobId,
      job: {
        jobId: record.jobId,
        attempt: 1,
        maxAttempts: 4,
        correlationId: '',
        idempotencyKey: '',
        payload: { value: 1 },
      },
    });
  });

  it('uses the idempotency key as the message id, and returns the existing job when the key repeats', async () => {
    const { submission, queue } = service();

    const first = await submission.submit({ ...valid, idempotencyKey: 'order-42' });
    const again = await submission.submit({ ...valid }, { idempotencyKey: 'order-42' });

    expect(again).toEqual({ record: first.record, created: false });
    expect(queue.sent.map((message) => message.messageId)).toEqual(['order-42']);
  });

  it('names every invalid field of every job in a batch, and sends nothing', async () => {
    const { submission, queue } = service();

    const attempt = submission.submitBatch([
      valid,
      { jobType: 'unknown.type', payload: {} },
      { jobType: 'test.scripted', payload: { value: 'x' }, extra: true },
    ]);

    await expect(attempt).rejects.toMatchObject({
      code: 'ValidationFailed',
      errors: [
        { field: '/1/jobType', message: expect.stringMatching(/Unknown job type 'unknown.type'/) },
        { field: '/2/extra', message: 'Unknown field.' },
        { field: '/2/payload/value', message: expect.any(String) },
      ],
    });
    expect(queue.sent).toHaveLength(0);
  });

  it('refuses an empty batch and one over 100 jobs', async () => {
    const { submission } = service();

    await expect(submission.submitBatch([])).rejects.toMatchObject({ code: 'ValidationFailed' });
    await expect(submission.submitBatch(Array.from({ length: 101 }, () => valid))).rejects.toMatchObject({
      code: 'ValidationFailed',
    });
  });

  it('derives one idempotency key per batch item from the request key', async () => {
    const { submission, queue } = service();

    await submission.submitBatch([valid, { ...valid, idempotencyKey: 'own' }], { idempotencyKey: 'req-1' });

    expect(queue.sent.map((message) => message.messageId)).toEqual(['req-1:0', 'own']);
  });

  it('gives batch items no idempotency key when the request has none', async () => {
    const { submission, queue } = service();

    const first = await submission.submitBatch([valid, valid]);
    const second = await submission.submitBatch([valid, valid]);

    expect([...first, ...second].every((result) => result.created)).toBe(true);
    expect(new Set(queue.sent.map((message) => message.job.jobId)).size).toBe(4);
    expect(queue.sent.map((message) => message.job.idempotencyKey)).toEqual(['', '', '', '']);
  });

  it("defaults maxAttempts to the type's own, and refuses more than the type allows", async () => {
    const bounded = { ...scriptedHandler('bounded.type').handler, policy: { maxAttempts: 5 } };
    const { submission } = service({
      registry: new HandlerRegistry([bounded, scriptedHandler().handler]),
    });
    const job = { jobType: 'bounded.type', payload: { value: 1 } };

    const byDefault = await submission.submit(job);
    const fewer = await submission.submit({ ...job, maxAttempts: 2 });
    const tooMany = submission.submit({ ...job, maxAttempts: 6 });
    const unbounded = await submission.submit({ ...valid, maxAttempts: 50 });

    expect(byDefault.record.maxAttempts).toBe(5);
    expect(fewer.record.maxAttempts).toBe(2);
    await expect(tooMany).rejects.toMatchObject({
      errors: [{ field: '/maxAttempts', message: "Jobs of type 'bounded.type' allow at most 5 attempts." }],
    });
    expect(unbounded.record.maxAttempts).toBe(50);
  });

  it('refuses a job too large for one Service Bus message', async () => {
    const { submission, queue } = service();

    const attempt = submission.submit({
      jobType: 'test.scripted',
      payload: { value: 1, note: 'x'.repeat(maxJobMessageBytes) },
    });

    await expect(attempt).rejects.toMatchObject({ code: 'PayloadTooLarge' });
    expect(queue.sent).toHaveLength(0);
  });

  it('refuses an Idempotency-Key the body field would refuse, naming it', async () => {
    const { submission, store } = service();

    const tooLong = submission.submit(valid, { idempotencyKey: 'k'.repeat(101) });
    const blank = submission.submitBatch([valid], { idempotencyKey: '  ' });

    await expect(tooLong).rejects.toMatchObject({
      code: 'ValidationFailed',
      errors: [{ field: '/idempotencyKey' }],
    });
    await expect(blank).rejects.toMatchObject({
      code: 'ValidationFailed',
      errors: [{ field: '/idempotencyKey' }],
    });
    expect((await store.list({ limit: 10 })).jobs).toEqual([]);
  });

  describe('the record is the promise', () => {
    it('when the queue is unavailable, then the job is accepted and recorded, and sent as soon as the queue answers', async () => {
      const { submission, store, queue, sender, clock } = service();
      queue.failWith = brokerDown();

      const accepted = await submission.submit({ ...valid, idempotencyKey: 'k' });
      const waiting = sender.waitingCount;
      await clock.advance(1_000);
      const sentDuringOutage = queue.sent.length;
      queue.failWith = undefined;
      await clock.advance(5_000);
      await sender.whenSent();

      expect(accepted.created).toBe(true);
      expect((await store.get(accepted.record.jobId))?.record.status).toBe('Queued');
      expect(waiting).toBe(1);
      expect(sentDuringOutage).toBe(0);
      expect(queue.sent.map((message) => message.job.jobId)).toEqual([accepted.record.jobId]);
      expect(sender.waitingCount).toBe(0);
    });

    it('while jobs wait for the queue, then a new submission joins them without holding its request on the queue', async () => {
      const { submission, queue, sender, clock } = service();
      queue.failWith = brokerDown();
      await submission.submit(valid);
      const sendsBefore = queue.sends;

      const second = await submission.submit(valid);
      const sendsAfter = queue.sends;
      queue.failWith = undefined;
      await clock.advance(1_000);
      await sender.whenSent();

      expect(second.created).toBe(true);
      expect(sendsAfter).toBe(sendsBefore);
      expect(queue.sent).toHaveLength(2);
    });

    it('when the broker refuses and the key repeats during the outage, then the first is 202, the repeat reads it, and the job is sent once the broker answers (regression: the first was 202 with no send, waiting for the reconciler)', async () => {
      const { submission, queue, sender, clock } = service();
      queue.failWith = brokerDown();

      const first = await submission.submit({ ...valid, idempotencyKey: 'blip' });
      const repeat = await submission.submit({ ...valid, idempotencyKey: 'blip' });
      queue.failWith = undefined;
      await clock.advance(1_000);
      await sender.whenSent();

      expect(first.created).toBe(true);
      expect(repeat).toEqual({ record: first.record, created: false });
      expect(queue.sent.map((message) => message.messageId)).toEqual(['blip']);
    });

    it('when the app stops while jobs wait for the queue, then they stay recorded (the reconciler sends them)', async () => {
      const { submission, store, queue, sender, shutdown } = service();
      queue.failWith = brokerDown();
      const { record } = await submission.submit(valid);

      shutdown.abort();
      await sender.whenSent();

      expect(sender.waitingCount).toBe(0);
      expect(queue.sent).toHaveLength(0);
      expect((await store.get(record.jobId))?.record.status).toBe('Queued');
    });

    it('when the commit fails, then the error is the answer and nothing is recorded or sent', async () => {
      class RefusingStore extends InMemoryJobStore {
        override async createAll(): Promise<never> {
          throw new InfrastructureError('StoreUnavailable', 'storage refuses connections');
        }
      }
      const { submission, store, queue } = service({ store: new RefusingStore() });

      const attempt = submission.submitBatch([valid, { ...valid, idempotencyKey: 'b' }]);

      await expect(attempt).rejects.toMatchObject({ code: 'StoreUnavailable' });
      expect((await store.list({ limit: 10 })).jobs).toEqual([]);
      expect(queue.sends).toBe(0);
    });

    it("commits a batch's jobs in one write, the repeated ones read", async () => {
      class CountingStore extends InMemoryJobStore {
        readonly commits: Array<readonly NewJob[]> = [];
        override async createAll(jobs: readonly NewJob[]) {
          this.commits.push(jobs);
          return super.createAll(jobs);
        }
      }
      const store = new CountingStore();
      const { submission, queue } = service({ store });
      const existing = await submission.submit({ ...valid, idempotencyKey: 'old' });

      const results = await submission.submitBatch([
        { ...valid, idempotencyKey: 'old' },
        { ...valid, idempotencyKey: 'new' },
        valid,
      ]);

      expect(store.commits.map((jobs) => jobs.length)).toEqual([1, 3]);
      expect(results.map((result) => result.created)).toEqual([false, true, true]);
      expect(results[0]?.record).toEqual(existing.record);
      expect(queue.sent.map((message) => message.messageId)).toEqual([
        'old',
        'new',
        results[2]?.record.jobId,
      ]);
    });
  });

  describe('repeats are reads', () => {
    it('when 30 requests with one key arrive at once, then exactly one is created and every other gets the same job, none an error (regression: most were 503)', async () => {
      const { submission, store, queue } = service();

      const answers = await Promise.allSettled(
        Array.from({ length: 30 }, () => submission.submit({ ...valid, idempotencyKey: 'double-click' })),
      );

      const results = answers.map((answer) => (answer.status === 'fulfilled' ? answer.value : answer.reason));
      expect(results.filter((result) => result.created === true)).toHaveLength(1);
      expect(results.filter((result) => result.created === false)).toHaveLength(29);
      expect(new Set(results.map((result) => result.record?.jobId))).toEqual(
        new Set([jobIdForKey('double-click')]),
      );
      expect(queue.sent).toHaveLength(1);
      expect((await store.get(jobIdForKey('double-click')))?.record.status).toBe('Queued');
    });

    it('when a key repeats, then the record is not written and nothing is sent again', async () => {
      const { submission, store, queue } = service();
      const first = await submission.submit({ ...valid, idempotencyKey: 'order-7' });
      const before = await store.get(first.record.jobId);

      const repeat = await submission.submit(
        { ...valid, payload: { value: 2 } },
        { idempotencyKey: 'order-7' },
      );

      expect(repeat).toEqual({ record: first.record, created: false });
      expect(await store.get(first.record.jobId)).toBe(before);
      expect(queue.sent).toHaveLength(1);
    });

    it('when a key repeats after its job was cancelled, then the answer is the cancelled job, never run', async () => {
      const { submission, store, queue } = service();
      const { record } = await submission.submit({ ...valid, idempotencyKey: 'c' });
      await new JobCancellation({ store, cancelRunning: () => false, logger: silentLogger }).cancel(
        record.jobId,
      );

      const repeat = await submission.submit({ ...valid, idempotencyKey: 'c' });

      expect(repeat.created).toBe(false);
      expect(repeat.record.status).toBe('Cancelled');
      expect(queue.sent).toHaveLength(1);
    });
  });
});
