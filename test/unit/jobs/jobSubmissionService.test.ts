import { InfrastructureError } from '../../../src/jobs/errors';
import { jobIdForKey } from '../../../src/jobs/jobIdForKey';
import type { JobRecord } from '../../../src/jobs/jobRecord';
import { newJobRecord } from '../../../src/jobs/jobRecord';
import { firstMessageOf } from '../../../src/jobs/outgoingJobMessage';
import { jobMessage } from '../../support/jobFixtures';
import { waitFor } from '../../support/waitFor';
import { JobCancellation } from '../../../src/jobs/jobCancellation';
import { JobSubmissionService } from '../../../src/jobs/jobSubmissionService';
import { maxJobMessageBytes } from '../../../src/jobs/jobSubmissionRequest';
import { createLogger, silentLogger } from '../../../src/jobs/logger';
import type { JobQueue } from '../../../src/jobs/jobQueue';
import type { OutgoingJobMessage } from '../../../src/jobs/outgoingJobMessage';
import { InMemoryJobStore } from '../../../src/store/inMemoryJobStore';
import { builtInPolicyDefaults } from '../../../src/jobs/jobTypePolicy';
import { HandlerRegistry } from '../../../src/handlers/handlerRegistry';
import { scriptedHandler } from '../../support/testRuntimeParts';

/** A fake of the queue port that records what was sent, or fails. */
class RecordingQueue implements JobQueue {
  readonly transport = 'in-memory' as const;
  readonly queueName = 'test';
  readonly sent: OutgoingJobMessage[] = [];
  failWith: Error | undefined;
  /** Runs before each send, as something else acting on the jobs between their records and their messages. */
  beforeSend: ((messages: readonly OutgoingJobMessage[]) => Promise<void>) | undefined;

  async send(messages: readonly OutgoingJobMessage[]): Promise<void> {
    await this.beforeSend?.(messages);
    if (this.failWith) throw this.failWith;
    this.sent.push(...messages);
  }

  async schedule(): Promise<void> {
    throw new Error('not used by submission');
  }

  async close(): Promise<void> {}
}

function service() {
  const store = new InMemoryJobStore();
  const queue = new RecordingQueue();
  const submission = new JobSubmissionService({
    registry: new HandlerRegistry([scriptedHandler().handler], {
      ...builtInPolicyDefaults,
      defaultMaxAttempts: 4,
    }),
    store,
    queue,
    logger: silentLogger,
  });
  return { submission, store, queue };
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
    // The job is still Queued, so it may never have been sent: it is sent again, and the broker drops the copy.
    expect(queue.sent.map((message) => message.messageId)).toEqual(['order-42', 'order-42']);
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
    const submission = new JobSubmissionService({
      registry: new HandlerRegistry([bounded, scriptedHandler().handler]),
      store: new InMemoryJobStore(),
      queue: new RecordingQueue(),
      logger: silentLogger,
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

  it('removes the records and frees the key when the queue is unavailable', async () => {
    const { submission, store, queue } = service();
    queue.failWith = new InfrastructureError('QueueUnavailable', 'down');

    await expect(submission.submit({ ...valid, idempotencyKey: 'k' })).rejects.toMatchObject({
      code: 'QueueUnavailable',
    });
    queue.failWith = undefined;
    const retried = await submission.submit({ ...valid, idempotencyKey: 'k' });

    expect(retried.created).toBe(true);
    expect(queue.sent).toHaveLength(1);
    expect((await store.get(queue.sent[0]?.job.jobId ?? ''))?.record).toMatchObject({ status: 'Queued' });
  });

  describe('failure windows', () => {
    it("when a refused request's create had applied and another writer moved the job on meanwhile, then the cleanup leaves that record alone", async () => {
      // Creates apply, then their answers are lost, while `losing`: the request's own, and its cleanup's tries.
      class AnswerLosingStore extends InMemoryJobStore {
        losing = true;
        answered = 0;
        override async create(record: JobRecord, body?: string) {
          const result = await super.create(record, body);
          if (this.losing) throw new InfrastructureError('StoreUnavailable', 'answer lost');
          this.answered += 1;
          return result;
        }
      }
      const store = new AnswerLosingStore();
      const submission = new JobSubmissionService({
        registry: new HandlerRegistry([scriptedHandler().handler]),
        store,
        queue: new RecordingQueue(),
        logger: silentLogger,
      });

      await expect(submission.submit({ ...valid, idempotencyKey: 'u' })).rejects.toMatchObject({
        code: 'StoreUnavailable',
      });
      // While the cleanup keeps trying in the background, the job is taken up (a repeat with the key sent it).
      const taken = (await store.get(jobIdForKey('u')))!;
      await store.replace({ ...taken.record, status: 'Completed' }, taken.etag);
      store.losing = false;
      await waitFor(() => store.answered >= 1, { description: 'the background cleanup' });
      // Whatever the cleanup does with that answer, it does before the next turn of the event loop (no timers).
      await new Promise((resolve) => setImmediate(resolve));

      expect((await store.get(jobIdForKey('u')))?.record.status).toBe('Completed');
    });

    it("when a repeat sends a refused request's job again, then that request's cleanup, still trying in the background, leaves the job alone", async () => {
      class FlakyRemovalStore extends InMemoryJobStore {
        removalsFail = true;
        removals = 0;
        override async remove(jobId: string, etag: string) {
          this.removals += 1;
          if (this.removalsFail) throw new InfrastructureError('StoreUnavailable', 'down');
          return super.remove(jobId, etag);
        }
      }
      const store = new FlakyRemovalStore();
      const queue = new RecordingQueue();
      const submission = new JobSubmissionService({
        registry: new HandlerRegistry([scriptedHandler().handler]),
        store,
        queue,
        logger: silentLogger,
      });
      queue.failWith = new InfrastructureError('QueueUnavailable', 'down');
      await expect(submission.submit({ ...valid, idempotencyKey: 'r' })).rejects.toMatchObject({
        code: 'QueueUnavailable',
      });
      queue.failWith = undefined;

      const repeat = await submission.submit({ ...valid, idempotencyKey: 'r' });
      const removalsBefore = store.removals;
      store.removalsFail = false;
      await waitFor(() => store.removals > removalsBefore, { description: 'the background cleanup' });
      // Whatever the cleanup does with that answer, it does before the next turn of the event loop (no timers).
      await new Promise((resolve) => setImmediate(resolve));

      expect(repeat).toMatchObject({ created: false, record: { status: 'Queued' } });
      expect(queue.sent.map((message) => message.messageId)).toEqual(['r']);
      expect((await store.get(jobIdForKey('r')))?.record.status).toBe('Queued');
    });

    it('when a cancel lands between the create and a send that fails, then the cancel holds: the job stays Cancelled and a repeat does not run it', async () => {
      const { submission, store, queue } = service();
      const cancellation = new JobCancellation({ store, cancelRunning: () => false, logger: silentLogger });
      queue.beforeSend = async ([message]) => {
        expect((await cancellation.cancel(message!.job.jobId)).outcome).toBe('Cancelled');
      };
      queue.failWith = new InfrastructureError('QueueUnavailable', 'down');

      await expect(submission.submit({ ...valid, idempotencyKey: 'c' })).rejects.toMatchObject({
        code: 'QueueUnavailable',
      });
      queue.beforeSend = undefined;
      queue.failWith = undefined;
      const repeat = await submission.submit({ ...valid, idempotencyKey: 'c' });

      expect(repeat).toMatchObject({ created: false, record: { status: 'Cancelled', attempt: 0 } });
      expect(queue.sent).toHaveLength(0);
    });

    it('when a submission died between recording and sending, then a repeat with the same key sends the job', async () => {
      const { submission, store, queue } = service();
      const job = jobMessage({
        jobId: jobIdForKey('order-7'),
        jobType: 'test.scripted',
        payload: { value: 1 },
      });
      const first = firstMessageOf({ ...job, idempotencyKey: 'order-7' });
      await store.create(newJobRecord(first.job, new Date()), first.body);

      const repeat = await submission.submit({ ...valid, idempotencyKey: 'order-7' });

      expect(repeat.created).toBe(false);
      expect(queue.sent.map((message) => [message.messageId, JSON.parse(message.body)])).toEqual([
        ['order-7', JSON.parse(first.body)],
      ]);
      // Without the record's version: should the first request remove the record, the dispatcher recreates it.
      expect(queue.sent[0]?.recordEtag).toBeUndefined();
    });

    it('when a repeat names a job that has started, then nothing is sent again', async () => {
      const { submission, store, queue } = service();
      const { record } = await submission.submit({ ...valid, idempotencyKey: 'k' });
      const stored = (await store.get(record.jobId))!;
      await store.replace({ ...stored.record, status: 'Running', attempt: 1 }, stored.etag);

      await submission.submit({ ...valid, idempotencyKey: 'k' });

      expect(queue.sent).toHaveLength(1);
    });

    it('when a batch fails partway, then the records it made are removed and the error is the answer', async () => {
      const { submission, store, queue } = service();
      const create = store.create.bind(store);
      let creates = 0;
      store.create = async (record, body) => {
        creates += 1;
        if (creates === 2) throw new InfrastructureError('StoreUnavailable', 'table down');
        return create(record, body);
      };

      await expect(submission.submitBatch([valid, valid, valid])).rejects.toMatchObject({
        code: 'StoreUnavailable',
      });

      expect(queue.sent).toHaveLength(0);
      expect((await store.list({ limit: 10 })).jobs).toEqual([]);
    });

    it('when a create was applied but its answer lost, then the refused request removes that record too', async () => {
      const { submission, store, queue } = service();
      const create = store.create.bind(store);
      let lostAnswers = 1;
      store.create = async (record, body) => {
        const result = await create(record, body);
        if (lostAnswers-- > 0)
          throw new InfrastructureError('StoreUnavailable', 'connection reset after the insert');
        return result;
      };

      await expect(submission.submit({ ...valid, idempotencyKey: 'k4' })).rejects.toMatchObject({
        code: 'StoreUnavailable',
      });

      expect(queue.sent).toHaveLength(0);
      expect((await store.list({ limit: 10 })).jobs).toEqual([]);
    });

    it('when the send fails and so does the removal, then the removal goes on in the background until it works', async () => {
      const { submission, store, queue } = service();
      const remove = store.remove.bind(store);
      let failures = 1;
      store.remove = async (jobId, etag) => {
        if (failures-- > 0) throw new InfrastructureError('StoreUnavailable', 'table down');
        return remove(jobId, etag);
      };
      queue.failWith = new InfrastructureError('QueueUnavailable', 'broker down');

      await expect(submission.submit({ ...valid, idempotencyKey: 'k2' })).rejects.toMatchObject({
        code: 'QueueUnavailable',
      });

      await waitFor(async () => ((await store.list({ limit: 10 })).jobs.length === 0 ? true : undefined), {
        description: 'the refused job removed',
      });
    });

    it('when the app stops while the removal is still trying in the background, then it gives up and says the record is left', async () => {
      const store = new InMemoryJobStore();
      store.remove = async () => {
        throw new InfrastructureError('StoreUnavailable', 'table down');
      };
      const queue = new RecordingQueue();
      queue.failWith = new InfrastructureError('QueueUnavailable', 'broker down');
      const lines: string[] = [];
      const shutdown = new AbortController();
      const submission = new JobSubmissionService({
        registry: new HandlerRegistry([scriptedHandler().handler]),
        store,
        queue,
        logger: createLogger('warn', { write: (line) => lines.push(line) }),
        shutdownSignal: shutdown.signal,
      });

      await expect(submission.submit({ ...valid, idempotencyKey: 'k5' })).rejects.toMatchObject({
        code: 'QueueUnavailable',
      });
      shutdown.abort();

      const left = await waitFor(
        () => lines.find((line) => line.includes('Records of a refused submission are left')),
        {
          description: 'the background cleanup giving up',
        },
      );
      expect(JSON.parse(left)).toMatchObject({
        level: 'error',
        jobIds: [jobIdForKey('k5')],
        error: 'table down',
      });
      expect((await store.get(jobIdForKey('k5')))?.record.status).toBe('Queued');
    });

    it('when the send reported a failure but a dispatcher already took the job up, then it is accepted and stays', async () => {
      const { submission, store, queue } = service();
      const create = store.create.bind(store);
      store.create = async (record, body) => {
        const result = await create(record, body);
        if (result.created) {
          await store.replace({ ...record, status: 'Running', attempt: 1 }, result.stored.etag);
          queue.failWith = new InfrastructureError('QueueUnavailable', 'broker down');
        }
        return result;
      };

      const accepted = await submission.submit({ ...valid, idempotencyKey: 'k3' });

      expect(accepted.created).toBe(true);
      expect((await store.list({ limit: 10 })).jobs).toMatchObject([{ status: 'Running' }]);
    });
  });
});
