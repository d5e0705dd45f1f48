import { createHandlerRegistry } from '../../../../src/handlers/registeredHandlers';
import { DeadLetterService } from '../../../../src/jobs/operators/deadLetterService';
import type { DeadLetterQueue } from '../../../../src/jobs/ports/deadLetterQueue';
import { InfrastructureError, NotFoundError } from '../../../../src/jobs/errors';
import { jobRecordSchema, newJobRecord } from '../../../../src/jobs/model/jobRecord';
import type { JobMessage } from '../../../../src/jobs/model/jobMessage';
import { toWireBody } from '../../../../src/jobs/model/jobMessage';
import { silentLogger } from '../../../../src/jobs/support/logger';
import { InMemoryDocumentStore } from '../../../../src/documents/inMemoryDocumentStore';
import { InMemoryJobQueue } from '../../../../src/queue/inMemoryJobQueue';
import type { OutgoingJobMessage } from '../../../../src/jobs/model/outgoingJobMessage';
import { InMemoryJobStore } from '../../../../src/store/inMemoryJobStore';
import { jobMessage } from '../../../support/jobFixtures';
import { waitFor } from '../../../support/waitFor';

/** The core over the in-memory transport, whose consumer gives up on every delivery (as `host` settlement does). */
function world({ scanLimit }: { scanLimit?: number } = {}) {
  const queue = new InMemoryJobQueue({
    queueName: 'unit',
    lockDurationMs: 60_000,
    maxDeliveryCount: 1,
    maxConcurrency: 1,
  });
  queue.startProcessing((delivery) => delivery.abandon('the host threw'));
  const store = new InMemoryJobStore();
  const sent: OutgoingJobMessage[] = [];
  const sender = {
    failWith: undefined as Error | undefined,
    async send(messages: readonly OutgoingJobMessage[]) {
      if (sender.failWith) throw sender.failWith;
      sent.push(...messages);
    },
  };
  const registry = createHandlerRegistry({ documents: new InMemoryDocumentStore(), enableDiagnostics: true });
  // Locking a message fails as these say, by sequence number: a message gone meanwhile, the queue down.
  const lockFailures = new Map<string, Error>();
  const deadLetters: DeadLetterQueue = {
    peekDeadLetters: (max, after) => queue.peekDeadLetters(max, after),
    peekDeadLetter: (sequenceNumber) => queue.peekDeadLetter(sequenceNumber),
    lockDeadLetter: async (sequenceNumber) => {
      const failure = lockFailures.get(sequenceNumber);
      if (failure) throw failure;
      return queue.lockDeadLetter(sequenceNumber);
    },
    close: () => queue.close(),
  };
  const service = new DeadLetterService({
    deadLetters,
    queue: sender,
    store,
    registry,
    logger: silentLogger,
    scanLimit,
  });
  return {
    queue,
    store,
    lockFailures,
    sender,
    sent,
    service,
    /** Sends bodies straight to the queue and waits until the broker has dead-lettered them all. */
    async deadLetter(...bodies: string[]) {
      const before = queue.messageCount().deadLettered;
      await queue.send(
        bodies.map((body, index) => ({ messageId: `m-${before + index}`, body, traceParent }) as never),
      );
      await waitFor(() => (queue.messageCount().deadLettered === before + bodies.length ? true : undefined));
      return queue
        .deadLetteredMessages()
        .slice(before)
        .map((message) => String(message.sequenceNumber));
    },
  };
}

const traceParent = `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`;
const bodyOf = (job: JobMessage) => JSON.stringify(toWireBody(job));

describe('DeadLetterService', () => {
  let app: ReturnType<typeof world>;

  afterEach(() => app.queue.close());

  describe('list', () => {
    it('when the broker says MaxDeliveryCountExceeded and no record exists, then it decides the reason as the dispatcher would', async () => {
      app = world();
      await app.deadLetter(
        'not json',
        bodyOf(jobMessage({ jobType: 'no.such.type' })),
        bodyOf(jobMessage({ payload: { failTimes: 'twice' } })),
        bodyOf(jobMessage({ payload: {} })),
      );

      const listing = await app.service.list({ limit: 10 });

      expect(listing.items.map((item) => [item.reason, item.jobType, item.attempts])).toEqual([
        ['InvalidFormat', null, 0],
        ['NoHandler', 'no.such.type', 0],
        ['InvalidPayload', 'diagnostics.simulate', 0],
        ['MaxDeliveryCountExceeded', 'diagnostics.simulate', 0],
      ]);
      expect(listing.items[0]?.description).toMatch(/not JSON/);
      expect(listing.items[2]?.description).toMatch(/payload\.failTimes/);
    });

    it('when the job has a record with a dead-letter reason, then the record’s reason and attempts are shown', async () => {
      app = world();
      const job = jobMessage({ payload: { failAlways: true } });
      await app.store.create({
        ...newJobRecord(job, new Date()),
        status: 'DeadLettered',
        attempt: 3,
        deadLetterReason: 'MaxRetriesExceeded',
        deadLetterDescription: 'Failed 3 of 3 attempts',
      });
      await app.deadLetter(bodyOf(job));

      const [item] = (await app.service.list({ limit: 10 })).items;

      expect(item).toMatchObject({
        jobId: job.jobId,
        reason: 'MaxRetriesExceeded',
        description: 'Failed 3 of 3 attempts',
        attempts: 3,
      });
    });

    it('counts everything scanned before filters and the limit, and says when the scan was cut short', async () => {
      app = world({ scanLimit: 3 });
      await app.deadLetter('x', 'y', bodyOf(jobMessage({ jobType: 'no.such.type' })), 'z');

      const listing = await app.service.list({ limit: 1, reason: 'InvalidFormat' });

      expect(listing).toMatchObject({ scanned: 3, matched: 2, truncated: true });
      expect(listing.items).toHaveLength(1);
      expect(listing.counts).toEqual({
        byReason: { InvalidFormat: 2, NoHandler: 1 },
        byJobType: { '(not a job)': 2, 'no.such.type': 1 },
      });
    });
  });

  describe('replay', () => {
    it('when a job from another producer has no record, then one is created and the job is sent as attempt 1', async () => {
      app = world();
      const job = jobMessage({ attempt: 2, payload: {}, correlationId: 'c-1' });
      const [sequenceNumber] = await app.deadLetter(bodyOf(job));

      const result = await app.service.replay(sequenceNumber!);

      expect(result).toMatchObject({ jobId: job.jobId, messageId: `${job.jobId}:cycle-2:attempt-1` });
      expect(
        app.sent.map((message) => [message.messageId, message.job.attempt, message.job.correlationId]),
      ).toEqual([[`${job.jobId}:cycle-2:attempt-1`, 1, 'c-1']]);
      expect(app.sent[0]?.traceParent).toBe(traceParent);
      expect(app.sent[0]).not.toHaveProperty('recordEtag');
      expect((await app.store.get(job.jobId))?.record).toMatchObject({
        status: 'Queued',
        cycle: 2,
        attempt: 0,
        deadLetterActions: [{ action: 'Replayed', sequenceNumber, reason: 'MaxDeliveryCountExceeded' }],
      });
      expect(app.queue.messageCount().deadLettered).toBe(0);
    });

    it('when the send fails, then the record is put back (its cycle spent) and the message stays in the sub-queue, unlocked', async () => {
      app = world();
      const job = jobMessage({ payload: {} });
      const deadLettered = {
        ...newJobRecord(job, new Date()),
        status: 'DeadLettered' as const,
        attempt: 3,
        deadLetterReason: 'MaxRetriesExceeded' as const,
        deadLetterDescription: 'Failed',
      };
      await app.store.create(deadLettered);
      const [sequenceNumber] = await app.deadLetter(bodyOf(job));
      app.sender.failWith = new InfrastructureError('QueueUnavailable', 'Service Bus send failed');

      await expect(app.service.replay(sequenceNumber!)).rejects.toMatchObject({ code: 'QueueUnavailable' });

      // The send may have gone through: its cycle is never used again, so a retried replay is not a duplicate.
      expect((await app.store.get(job.jobId))?.record).toEqual({ ...deadLettered, cycle: 2 });
      expect(app.queue.messageCount().deadLettered).toBe(1);
      const lease = await app.queue.lockDeadLetter(sequenceNumber!);
      expect(lease).toBeDefined();
      await lease?.release();
      app.sender.failWith = undefined;
      await expect(app.service.replay(sequenceNumber!)).resolves.toMatchObject({
        messageId: `${job.jobId}:cycle-3:attempt-1`,
      });
    });

    it('when the job has completed since, then the stale copy is refused with a conflict and left alone', async () => {
      app = world();
      const job = jobMessage({ payload: {} });
      await app.store.create({ ...newJobRecord(job, new Date()), status: 'Completed', attempt: 1 });
      const [sequenceNumber] = await app.deadLetter(bodyOf(job));

      await expect(app.service.replay(sequenceNumber!)).rejects.toMatchObject({ code: 'Conflict' });

      expect(app.sent).toEqual([]);
      expect(app.queue.messageCount().deadLettered).toBe(1);
    });

    it('when the job type has no handler, then the replay is refused before anything changes', async () => {
      app = world();
      const [sequenceNumber] = await app.deadLetter(bodyOf(jobMessage({ jobType: 'no.such.type' })));

      await expect(app.service.replay(sequenceNumber!)).rejects.toMatchObject({
        code: 'Conflict',
        message: expect.stringMatching(/No handler for job type 'no.such.type'/),
      });
      expect(app.sent).toEqual([]);
    });
  });

  describe('replayMatching', () => {
    it('when the queue is unavailable, then it stops at the first failure and reports the rest as not attempted', async () => {
      app = world();
      await app.deadLetter(bodyOf(jobMessage()), bodyOf(jobMessage()), 'not json');
      app.sender.failWith = new InfrastructureError('QueueUnavailable', 'Service Bus send failed');

      const result = await app.service.replayMatching({ jobType: 'diagnostics.simulate' });

      expect(result).toMatchObject({ replayed: 0, failed: 2 });
      expect(result.results.map((item) => item.status === 'failed' && item.code)).toEqual([
        'QueueUnavailable',
        'NotAttempted',
      ]);
      expect(app.queue.messageCount().deadLettered).toBe(3);
    });
  });
});

describe('DeadLetterService.discardMatching', () => {
  let app: ReturnType<typeof world>;

  afterEach(() => app.queue.close());

  it('discards every message the filter matches, oldest first, and reports each', async () => {
    app = world();
    const [first, second] = [jobMessage(), jobMessage()];
    const [one, two] = await app.deadLetter(bodyOf(first!), bodyOf(second!), 'not json');

    const result = await app.service.discardMatching({
      reason: 'MaxDeliveryCountExceeded',
      jobType: 'diagnostics.simulate',
    });

    expect(result).toEqual({
      results: [
        { sequenceNumber: one, jobId: first!.jobId, status: 'discarded' },
        { sequenceNumber: two, jobId: second!.jobId, status: 'discarded' },
      ],
      discarded: 2,
      failed: 0,
      truncated: false,
    });
    expect(app.queue.messageCount().deadLettered).toBe(1);
  });

  it('goes on after one failure, but attempts no more once the queue or store is unavailable', async () => {
    app = world();
    const sequenceNumbers = await app.deadLetter(...Array.from({ length: 4 }, () => bodyOf(jobMessage())));
    app.lockFailures.set(sequenceNumbers[0]!, new NotFoundError('gone'));
    app.lockFailures.set(sequenceNumbers[2]!, new InfrastructureError('QueueUnavailable', 'down'));

    const result = await app.service.discardMatching({ jobType: 'diagnostics.simulate' });

    expect(
      result.results.map((entry) => [entry.sequenceNumber, entry.status === 'failed' ? entry.code : 'ok']),
    ).toEqual([
      [sequenceNumbers[0], 'NotFound'],
      [sequenceNumbers[1], 'ok'],
      [sequenceNumbers[2], 'QueueUnavailable'],
      [sequenceNumbers[3], 'NotAttempted'],
    ]);
    expect(result).toMatchObject({ discarded: 1, failed: 3 });
  });

  it('says truncated when more match than one call takes', async () => {
    app = world();
    await app.deadLetter(...Array.from({ length: 1001 }, () => bodyOf(jobMessage())));

    const result = await app.service.discardMatching({});

    expect(result).toMatchObject({ discarded: 1000, truncated: true });
    expect(app.queue.messageCount().deadLettered).toBe(1);
  });
});

describe('job records', () => {
  it('reads a record stored before dead-letter actions existed', () => {
    const { deadLetterActions, ...stored } = newJobRecord(jobMessage(), new Date());

    const parsed = jobRecordSchema.parse(JSON.parse(JSON.stringify(stored)));

    expect(deadLetterActions).toEqual([]);
    expect(parsed.deadLetterActions).toEqual([]);
  });
});
