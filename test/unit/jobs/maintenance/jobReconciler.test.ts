import { JobReconciler } from '../../../../src/jobs/maintenance/jobReconciler';
import type { JobRecord } from '../../../../src/jobs/model/jobRecord';
import { newJobRecord } from '../../../../src/jobs/model/jobRecord';
import type { Logger } from '../../../../src/jobs/support/logger';
import { silentLogger } from '../../../../src/jobs/support/logger';
import type { DeadLetterQueue } from '../../../../src/jobs/ports/deadLetterQueue';
import type { InMemoryDelivery } from '../../../../src/queue/inMemoryJobQueue';
import { InMemoryJobQueue } from '../../../../src/queue/inMemoryJobQueue';
import { firstMessageOf, retryMessageOf } from '../../../../src/jobs/model/outgoingJobMessage';
import { InMemoryJobStore } from '../../../../src/store/inMemoryJobStore';
import { jobMessage } from '../../../support/jobFixtures';
import { waitFor } from '../../../support/waitFor';

const staleAfterMs = 60_000;
const queues: InMemoryJobQueue[] = [];

afterEach(async () => {
  await Promise.all(queues.splice(0).map((queue) => queue.close()));
});

/** A reconciler over the in-memory store and queue, at a clock the test moves. */
function world() {
  const clock = { now: new Date('2026-01-01T12:00:00.000Z') };
  const store = new InMemoryJobStore();
  const queue = new InMemoryJobQueue({
    queueName: 'unit',
    lockDurationMs: 60_000,
    maxDeliveryCount: 1,
    maxConcurrency: 4,
  });
  queues.push(queue);
  const reconciler = (batchSize?: number) =>
    new JobReconciler({
      store,
      queue,
      deadLetters: queue,
      logger: silentLogger,
      staleAfterMs,
      batchSize,
      now: () => clock.now,
    });
  const later = (ms: number) => (clock.now = new Date(clock.now.getTime() + ms));
  /** Receives every message the queue delivers, completing it. */
  const received: InMemoryDelivery[] = [];
  const receive = () =>
    queue.startProcessing(async (delivery) => {
      received.push(delivery);
      await delivery.complete();
    });
  return { clock, store, queue, reconciler, later, received, receive };
}

const job = () => jobMessage({ payload: { durationMs: 0 } });

async function storeAt(store: InMemoryJobStore, record: JobRecord, body?: string) {
  const created = await store.create(record, body);
  if (!created.created) throw new Error('expected a new record');
  return created.stored;
}

describe('JobReconciler', () => {
  it('when a submission died before its send, then the job is sent, once, however many reconcilers run', async () => {
    const { clock, store, reconciler, later, received, receive } = world();
    const queued = job();
    const first = firstMessageOf(queued);
    await storeAt(store, newJobRecord(queued, clock.now), first.body);
    later(staleAfterMs + 1);

    const reports = await Promise.all([reconciler().run(), reconciler().run()]);
    receive();

    await waitFor(() => (received.length === 1 ? true : undefined));
    expect(reports.map((report) => report.resent).sort()).toEqual([0, 1]);
    expect(received[0]?.message.messageId).toBe(first.messageId);
    expect(JSON.parse(received[0]?.message.body as string)).toEqual(JSON.parse(first.body));
    expect(received[0]?.message.recordEtag).toBe((await store.get(queued.jobId))?.etag);
    expect((await reconciler().run()).resent).toBe(0);
  });

  it('leaves a job alone until it has been still for longer than the threshold', async () => {
    const { clock, store, queue, reconciler, later } = world();
    await storeAt(store, newJobRecord(job(), clock.now), firstMessageOf(job()).body);
    later(staleAfterMs - 1);

    const report = await reconciler().run();

    expect(report.resent).toBe(0);
    expect(queue.messageCount().active).toBe(0);
  });

  it('when a stuck job has no message to send again, then it says so and moves on to the others', async () => {
    const { clock, store, queue, reconciler, later } = world();
    const bodiless = job();
    await storeAt(store, newJobRecord(bodiless, clock.now));
    later(staleAfterMs + 1);

    const first = await reconciler().run();
    const second = await reconciler().run();

    expect([first.examined, first.resent, second.examined]).toEqual([1, 0, 0]);
    expect(queue.messageCount().active).toBe(0);
  });

  it('when a retry copy never came, then the next attempt is sent under its own id', async () => {
    const { clock, store, queue, reconciler, later } = world();
    const failed = job();
    const record: JobRecord = {
      ...newJobRecord(failed, clock.now),
      status: 'Retrying',
      attempt: 1,
      nextAttemptAt: clock.now.toISOString(),
    };
    await storeAt(store, record, firstMessageOf(failed).body);
    later(staleAfterMs + 1);

    const report = await reconciler().run();

    expect(report.resent).toBe(1);
    expect(queue.messageCount().active).toBe(1);
    // The same id as the copy that went missing: had it been sent after all, the queue drops this one.
    await queue.send([retryMessageOf(failed, 1, 2)]);
    expect(queue.messageCount().active).toBe(1);
  });

  it('when more retries wait out their backoff than one run reads, then a stuck job among them is sent all the same', async () => {
    const { clock, store, queue, reconciler, later } = world();
    for (let waiting = 0; waiting < 5; waiting += 1) {
      const failed = job();
      await storeAt(
        store,
        {
          ...newJobRecord(failed, clock.now),
          status: 'Retrying',
          attempt: 1,
          nextAttemptAt: new Date(clock.now.getTime() + 10 * staleAfterMs).toISOString(),
        },
        firstMessageOf(failed).body,
      );
    }
    const stuck = job();
    await storeAt(store, newJobRecord(stuck, clock.now), firstMessageOf(stuck).body);
    later(staleAfterMs + 1);

    const report = await reconciler(2).run();

    expect(report).toMatchObject({ examined: 1, resent: 1 });
    expect(queue.messageCount().active).toBe(1);
  });

  it('when the broker dead-lettered the message of a job under way, then the record says DeadLettered with its reason', async () => {
    const { clock, store, queue, reconciler } = world();
    const running = job();
    await storeAt(store, {
      ...newJobRecord(running, clock.now),
      status: 'Running',
      attempt: 1,
      claimExpiresAt: clock.now.toISOString(),
    });
    queue.startProcessing((delivery) => delivery.abandon('store outage'));
    await queue.send([firstMessageOf(running)]);
    await waitFor(() => (queue.messageCount().deadLettered === 1 ? true : undefined));

    const report = await reconciler().run();

    expect(report.recordedDeadLettered).toBe(1);
    expect((await store.get(running.jobId))?.record).toMatchObject({
      status: 'DeadLettered',
      deadLetterReason: 'MaxDeliveryCountExceeded',
    });
    expect(queue.messageCount().deadLettered).toBe(1);
  });

  it('when a completed job has a copy in the dead-letter queue, then the copy is removed', async () => {
    const { clock, store, queue, reconciler } = world();
    const done = job();
    await storeAt(store, { ...newJobRecord(done, clock.now), status: 'Completed', attempt: 1 });
    queue.startProcessing((delivery) => delivery.abandon('store outage'));
    await queue.send([firstMessageOf(done)]);
    await waitFor(() => (queue.messageCount().deadLettered === 1 ? true : undefined));

    const report = await reconciler().run();

    expect(report.deadLettersRemoved).toBe(1);
    expect(queue.messageCount().deadLettered).toBe(0);
  });

  it('when a copy to remove cannot be locked, then it says so and leaves the copy for the next run', async () => {
    const { clock, store, queue } = world();
    const done = job();
    await storeAt(store, { ...newJobRecord(done, clock.now), status: 'Completed', attempt: 1 });
    queue.startProcessing((delivery) => delivery.abandon('store outage'));
    await queue.send([firstMessageOf(done)]);
    await waitFor(() => (queue.messageCount().deadLettered === 1 ? true : undefined));
    const warnings: string[] = [];
    const logger: Logger = {
      ...silentLogger,
      warn: (message) => warnings.push(message),
      child: () => logger,
    };
    const outOfReach: DeadLetterQueue = {
      peekDeadLetters: (max, after) => queue.peekDeadLetters(max, after),
      peekDeadLetter: (sequenceNumber) => queue.peekDeadLetter(sequenceNumber),
      lockDeadLetter: async () => undefined,
      close: async () => undefined,
    };
    const reconciler = new JobReconciler({
      store,
      queue,
      deadLetters: outOfReach,
      logger,
      staleAfterMs,
      now: () => clock.now,
    });

    const report = await reconciler.run();

    expect(report.deadLettersRemoved).toBe(0);
    expect(warnings).toEqual([
      'A dead-lettered copy to remove could not be locked; the next run tries again',
    ]);
    expect(queue.messageCount().deadLettered).toBe(1);
  });

  it('goes through a dead-letter queue larger than one run can read, and keeps one copy of each dead-lettered job', async () => {
    const { clock, store, queue, reconciler } = world();
    const jobs = [job(), job(), job()];
    for (const deadLettered of jobs) {
      await storeAt(store, {
        ...newJobRecord(deadLettered, clock.now),
        status: 'DeadLettered',
        attempt: 1,
        deadLetterReason: 'Poisoned',
      });
    }
    queue.startProcessing((delivery) => delivery.abandon('host settlement'));
    const copies = [...jobs.map((each) => firstMessageOf(each)), retryMessageOf(jobs[0]!, 1, 2)];
    // One at a time, so the second copy of the first job is the last in the sub-queue, beyond one run's reach.
    for (const [index, copy] of copies.entries()) {
      await queue.send([copy]);
      await waitFor(() => (queue.messageCount().deadLettered === index + 1 ? true : undefined));
    }
    const sweeper = reconciler(2);

    const reports = [await sweeper.run(), await sweeper.run()];

    expect(reports.map((report) => report.deadLettersRemoved)).toEqual([0, 1]);
    expect(queue.deadLetteredMessages().map((message) => message.messageId)).toEqual(
      jobs.map((each) => firstMessageOf(each).messageId),
    );
  });
});
