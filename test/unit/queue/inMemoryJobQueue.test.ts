import type { InMemoryDelivery } from '../../../src/queue/inMemoryJobQueue';
import { InMemoryJobQueue } from '../../../src/queue/inMemoryJobQueue';
import { firstMessageOf } from '../../../src/jobs/model/outgoingJobMessage';
import { jobMessage } from '../../support/jobFixtures';
import { waitFor } from '../../support/waitFor';

const queues: InMemoryJobQueue[] = [];

function queue(overrides: Partial<ConstructorParameters<typeof InMemoryJobQueue>[0]> = {}): InMemoryJobQueue {
  const created = new InMemoryJobQueue({
    queueName: 'test',
    lockDurationMs: 60_000,
    maxDeliveryCount: 3,
    maxConcurrency: 4,
    ...overrides,
  });
  queues.push(created);
  return created;
}

afterEach(async () => {
  await Promise.all(queues.splice(0).map((created) => created.close()));
});

describe('InMemoryJobQueue', () => {
  it('delivers a sent message with delivery count 1, its message id and the job as JSON text', async () => {
    const q = queue();
    const deliveries: InMemoryDelivery[] = [];
    q.startProcessing(async (delivery) => {
      deliveries.push(delivery);
      await delivery.complete();
    });
    const job = jobMessage({ idempotencyKey: 'key-1' });

    await q.send([firstMessageOf(job)]);
    const [delivery] = await waitFor(() => (deliveries.length > 0 ? deliveries : undefined));

    expect(delivery?.message.deliveryCount).toBe(1);
    expect(delivery?.message.messageId).toBe('key-1');
    expect(JSON.parse(delivery?.message.body as string)).toMatchObject({
      jobId: job.jobId,
      isAtMaxAttempts: false,
    });
    expect(q.messageCount()).toEqual({ active: 0, scheduled: 0, locked: 0, deadLettered: 0 });
  });

  it('redelivers an abandoned message with the delivery count one higher', async () => {
    const q = queue();
    const counts: number[] = [];
    q.startProcessing(async (delivery) => {
      counts.push(delivery.message.deliveryCount);
      if (counts.length === 1) await delivery.abandon('try again');
      else await delivery.complete();
    });

    await q.send([firstMessageOf(jobMessage())]);

    await waitFor(() => (counts.length === 2 ? true : undefined));
    expect(counts).toEqual([1, 2]);
  });

  it('dead-letters a message after MaxDeliveryCount deliveries with MaxDeliveryCountExceeded', async () => {
    const q = queue({ maxDeliveryCount: 3 });
    let deliveries = 0;
    q.startProcessing(async (delivery) => {
      deliveries += 1;
      await delivery.abandon('always failing');
    });

    await q.send([firstMessageOf(jobMessage())]);

    const [deadLettered] = await waitFor(() =>
      q.deadLetteredMessages().length > 0 ? q.deadLetteredMessages() : undefined,
    );
    expect(deliveries).toBe(3);
    expect(deadLettered).toMatchObject({ reason: 'MaxDeliveryCountExceeded', deliveryCount: 3 });
  });

  it('dead-letters explicitly with a reason and description', async () => {
    const q = queue();
    q.startProcessing((delivery) => delivery.deadLetter('Poisoned', 'cannot be processed'));

    await q.send([firstMessageOf(jobMessage())]);

    const [deadLettered] = await waitFor(() =>
      q.deadLetteredMessages().length > 0 ? q.deadLetteredMessages() : undefined,
    );
    expect(deadLettered).toMatchObject({
      reason: 'Poisoned',
      description: 'cannot be processed',
      deliveryCount: 0,
    });
  });

  it('holds a scheduled message until its enqueue time', async () => {
    const q = queue();
    const receivedAt: number[] = [];
    q.startProcessing(async (delivery) => {
      receivedAt.push(Date.now());
      await delivery.complete();
    });
    const enqueueAt = new Date(Date.now() + 150);

    await q.schedule(firstMessageOf(jobMessage()), enqueueAt);

    expect(q.messageCount().scheduled).toBe(1);
    await waitFor(() => (receivedAt.length === 1 ? true : undefined));
    expect(receivedAt[0]).toBeGreaterThanOrEqual(enqueueAt.getTime());
  });

  it('redelivers a message whose lock expired while nobody processed it, and refuses the stale settlement', async () => {
    const q = queue({ lockDurationMs: 40, maxAutoLockRenewalMs: 0 });
    const deliveries: InMemoryDelivery[] = [];
    let releaseFirst: () => void = () => undefined;
    q.startProcessing(async (delivery) => {
      deliveries.push(delivery);
      if (deliveries.length === 1) await new Promise<void>((resolve) => (releaseFirst = resolve));
      else await delivery.complete();
    });

    await q.send([firstMessageOf(jobMessage())]);
    await waitFor(() => (deliveries.length === 2 ? true : undefined), { timeoutMs: 5_000 });
    releaseFirst();

    expect(deliveries[1]?.message.deliveryCount).toBe(2);
    await expect(deliveries[0]?.complete()).rejects.toMatchObject({ code: 'MessageLockLost' });
  });

  it('keeps renewing the lock of a message that is still being processed', async () => {
    const q = queue({ lockDurationMs: 30 });
    let deliveries = 0;
    q.startProcessing(async (delivery) => {
      deliveries += 1;
      await new Promise((resolve) => setTimeout(resolve, 200));
      await delivery.complete();
    });

    await q.send([firstMessageOf(jobMessage())]);
    await waitFor(() => (q.messageCount().locked === 0 && deliveries > 0 ? true : undefined));

    expect(deliveries).toBe(1);
  });

  it('never runs more than maxConcurrency messages at once', async () => {
    const q = queue({ maxConcurrency: 3 });
    let running = 0;
    let peak = 0;
    let done = 0;
    q.startProcessing(async (delivery) => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running -= 1;
      done += 1;
      await delivery.complete();
    });

    await q.send(Array.from({ length: 20 }, () => firstMessageOf(jobMessage())));

    await waitFor(() => (done === 20 ? true : undefined));
    expect(peak).toBe(3);
  });

  it('abandons a message whose processor throws', async () => {
    const q = queue();
    const counts: number[] = [];
    q.startProcessing(async (delivery) => {
      counts.push(delivery.message.deliveryCount);
      if (counts.length === 1) throw new Error('processor bug');
      await delivery.complete();
    });

    await q.send([firstMessageOf(jobMessage())]);

    await waitFor(() => (counts.length === 2 ? true : undefined));
    expect(counts).toEqual([1, 2]);
  });

  it('stops taking messages and waits for in-flight ones when stopped', async () => {
    const q = queue();
    let finished = 0;
    q.startProcessing(async (delivery) => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      finished += 1;
      await delivery.complete();
    });
    await q.send([firstMessageOf(jobMessage())]);
    await waitFor(() => (q.messageCount().locked === 1 ? true : undefined));

    const drained = await q.stopProcessing(5_000);
    await q.send([firstMessageOf(jobMessage())]);

    expect(drained).toBe(true);
    expect(finished).toBe(1);
    expect(q.messageCount().active).toBe(1);
  });

  it('drops a message whose id was sent or scheduled within the duplicate window, as Service Bus does', async () => {
    const q = queue({ duplicateDetectionWindowMs: 60_000 });
    const job = jobMessage({ idempotencyKey: 'dup-1' });

    await q.send([firstMessageOf(job)]);
    await q.send([firstMessageOf(job)]);
    await q.schedule(firstMessageOf(job), new Date(Date.now() + 60_000));
    await q.schedule(firstMessageOf(jobMessage({ idempotencyKey: 'dup-2' })), new Date(Date.now() + 60_000));

    expect(q.messageCount()).toMatchObject({ active: 1, scheduled: 1 });
  });

  it('takes an id again once the duplicate window has passed', async () => {
    const q = queue({ duplicateDetectionWindowMs: 1 });
    const job = jobMessage({ idempotencyKey: 'dup-3' });
    await q.send([firstMessageOf(job)]);
    const sentAt = Date.now();
    await waitFor(() => (Date.now() > sentAt + 1 ? true : undefined));

    await q.send([firstMessageOf(job)]);

    expect(q.messageCount().active).toBe(2);
  });
});
