import { randomUUID } from 'node:crypto';
import type { ServiceBusMessage, ServiceBusReceivedMessage } from '@azure/service-bus';
import { startLocalHost } from '../../tools/local-host/localHost';
import { getJobRecord, isSettled, jobRecordWhen, postJobs, submitJob } from '../support/jobApi';
import { TcpProxy } from '../support/tcpProxy';
import { cSharpProducerBody } from '../support/jobFixtures';
import { startLocalHostProcess } from '../support/localHostProcess';
import type { ServiceBusWorld } from '../support/serviceBusApp';
import { queueName, serviceBusSettings, startServiceBusWorld } from '../support/serviceBusApp';
import { embeddedTestSettings } from '../support/embeddedRuntime';

async function peekActive(world: ServiceBusWorld): Promise<ServiceBusReceivedMessage[]> {
  const receiver = world.client.createReceiver(queueName);
  try {
    return await receiver.peekMessages(100);
  } finally {
    await receiver.close();
  }
}

describe('Service Bus resilience', () => {
  let world: ServiceBusWorld;

  beforeEach(async () => {
    world = await startServiceBusWorld({ LockDuration: 'PT1S' });
  });

  afterEach(() => world?.close());

  it('when the broker refuses connections, then submissions are accepted (202) and recorded, and each job runs once as soon as the broker is back, not after the reconciler', async () => {
    const proxy = new TcpProxy('127.0.0.1', world.emulator.port);
    await proxy.start();
    const viaProxy = world.emulator.connectionString.replace(`:${world.emulator.port}`, `:${proxy.port}`);
    // The reconciler's staleness is left at its default (5 minutes): a job that completes here was not its work.
    const host = await world.startHost('explicit', { ServiceBusConnection: viaProxy });
    await proxy.cut();

    const single = await postJobs(host.url, { jobType: 'diagnostics.simulate', payload: {} });
    const repeatKey = `outage-${randomUUID()}`;
    const first = await postJobs(
      host.url,
      { jobType: 'diagnostics.simulate', payload: {} },
      {
        'idempotency-key': repeatKey,
      },
    );
    const repeat = await postJobs(
      host.url,
      { jobType: 'diagnostics.simulate', payload: {} },
      {
        'idempotency-key': repeatKey,
      },
    );
    const batch = await postJobs(host.url, [
      { jobType: 'diagnostics.simulate', payload: {} },
      { jobType: 'diagnostics.simulate', payload: {} },
    ]);
    const jobIds = [
      ((await single.json()) as { jobId: string }).jobId,
      ((await first.json()) as { jobId: string }).jobId,
      ...((await batch.json()) as Array<{ jobId: string }>).map(({ jobId }) => jobId),
    ];
    const duringOutage = await Promise.all(jobIds.map((jobId) => getJobRecord(host.url, jobId)));
    await proxy.restore();
    const settled = await Promise.all(
      jobIds.map((jobId) => jobRecordWhen(host.url, jobId, isSettled, { timeoutMs: 30_000 })),
    );
    await proxy.cut();

    expect([single.status, first.status, repeat.status, batch.status]).toEqual([202, 202, 200, 202]);
    expect(duringOutage.map((record) => record.status)).toEqual(['Queued', 'Queued', 'Queued', 'Queued']);
    expect(settled.map((record) => [record.status, record.outcomes.length])).toEqual(
      jobIds.map(() => ['Completed', 1]),
    );
  });

  it('when a handler runs longer than the lock duration, then its lock is renewed and it completes exactly once', async () => {
    const host = await world.startHost('explicit', { Jobs__HandlerTimeoutMs: '10000' });

    const jobId = await submitJob(host.url, {
      jobType: 'diagnostics.simulate',
      payload: { durationMs: 2_500 },
    });
    const record = await jobRecordWhen(host.url, jobId, isSettled);

    expect(record).toMatchObject({ status: 'Completed', attempt: 1 });
    expect(record.outcomes).toHaveLength(1);
    expect(await world.peekDeadLetters()).toHaveLength(0);
  });

  it('when the host process is killed mid-job, then after lock and claim expiry the job completes once', async () => {
    // Records live in Azurite, shared by both hosts: the survivor sees the dead host's claim and waits it out.
    const claim = { Jobs__HandlerTimeoutMs: '3000', Jobs__ClaimGraceMs: '500' };
    const settings = serviceBusSettings(world.emulator, world.azurite, 'host', claim);
    const doomed = await startLocalHostProcess(settings);
    const jobId = await submitJob(doomed.url, {
      jobType: 'diagnostics.simulate',
      payload: { durationMs: 1_500 },
    });
    await jobRecordWhen(doomed.url, jobId, (record) => record.status === 'Running');

    expect(await doomed.stop('SIGKILL')).toBeNull();
    const survivor = await world.startHost('host', claim);
    const record = await jobRecordWhen(survivor.url, jobId, isSettled);

    expect(record).toMatchObject({ status: 'Completed', attempt: 2 });
    expect(record.outcomes.map((outcome) => [outcome.attempt, outcome.status])).toEqual([[2, 'Completed']]);
    expect(await peekActive(world)).toHaveLength(0);
    expect(await world.peekDeadLetters()).toHaveLength(0);
  });

  it('when the host stops gracefully mid-job, then it stops receiving, lets the job finish and settles its message', async () => {
    const host = await world.startHost('host');
    const jobId = await submitJob(host.url, {
      jobType: 'diagnostics.simulate',
      payload: { durationMs: 250 },
    });
    await jobRecordWhen(host.url, jobId, (record) => record.status === 'Running');

    await host.close();

    expect((await host.runtime.store.get(jobId))?.record).toMatchObject({ status: 'Completed', attempt: 1 });
    expect(await peekActive(world)).toHaveLength(0);
  });

  it('when a job is retried, then each retry is a scheduled message and the delays grow with the attempt', async () => {
    // Long enough that a peek every 20 ms sees each scheduled copy even on a busy machine, before it comes due.
    const baseDelayMs = 1_000;
    const host = await world.startHost('explicit', {
      Jobs__Retry__BaseDelayMs: String(baseDelayMs),
      Jobs__Retry__MaxDelayMs: '10000',
    });
    const scheduledAt = new Map<string, number>();
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        for (const message of await peekActive(world)) {
          if (message.state === 'scheduled' && message.scheduledEnqueueTimeUtc) {
            scheduledAt.set(String(message.messageId), message.scheduledEnqueueTimeUtc.getTime());
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();

    const jobId = await submitJob(host.url, {
      jobType: 'diagnostics.simulate',
      payload: { failTimes: 3 },
      maxAttempts: 4,
    });
    const record = await jobRecordWhen(host.url, jobId, isSettled);
    watching = false;
    await watcher;

    expect(record).toMatchObject({ status: 'Completed', attempt: 4 });
    const delays = [2, 3, 4].map((attempt) => {
      const scheduled = scheduledAt.get(`${jobId}:attempt-${attempt}`);
      const failedAt = Date.parse(record.outcomes[attempt - 2]?.completedAt ?? '');
      expect(scheduled).toBeDefined();
      return (scheduled ?? 0) - failedAt;
    });
    delays.forEach((delay, index) => {
      const expected = baseDelayMs * 2 ** index;
      expect(delay).toBeGreaterThanOrEqual(expected * 0.8 - 50);
      expect(delay).toBeLessThanOrEqual(expected * 1.2 + 50);
    });
    expect(delays[1]).toBeGreaterThan(delays[0] ?? Infinity);
    expect(delays[2]).toBeGreaterThan(delays[1] ?? Infinity);
  });

  it('when a producer sends the same message id twice inside the duplicate-detection window, then the handler runs once', async () => {
    const body = cSharpProducerBody({ idempotencyKey: 'order-1001' });
    const message: ServiceBusMessage = {
      body: Buffer.from(JSON.stringify(body)),
      messageId: 'order-1001',
      contentType: 'application/json',
    };

    await world.send(message);
    await world.send({ ...message, body: Buffer.from(JSON.stringify({ ...body, jobId: randomUUID() })) });

    expect(await peekActive(world)).toHaveLength(1);
    const host = await world.startHost('host');
    const record = await jobRecordWhen(host.url, String(body.jobId), isSettled);
    expect(record.outcomes).toHaveLength(1);
  });
});

describe('the Jobs__UseServiceBus feature flag', () => {
  let world: ServiceBusWorld;

  beforeAll(async () => {
    world = await startServiceBusWorld();
  });

  afterAll(() => world?.close());

  it('when true, then jobs go through Service Bus and the in-memory queue does not exist', async () => {
    const host = await world.startHost('host');

    const jobId = await submitJob(host.url, { jobType: 'diagnostics.simulate', payload: {} });

    expect(host.runtime.embeddedQueue).toBeUndefined();
    expect(host.runtime.queue.transport).toBe('service-bus');
    expect(await jobRecordWhen(host.url, jobId, isSettled)).toMatchObject({ status: 'Completed' });
  });

  it('when false, then nothing is sent to Service Bus even with a connection configured', async () => {
    const host = await startLocalHost({
      env: { ...embeddedTestSettings, ServiceBusConnection: world.emulator.connectionString },
      port: 0,
    });

    const jobId = await submitJob(host.url, {
      jobType: 'diagnostics.simulate',
      payload: { durationMs: 200 },
    });
    const queuedInMemory = host.runtime.embeddedQueue?.messageCount();
    const onServiceBus = await peekActive(world);
    await jobRecordWhen(host.url, jobId, isSettled);
    await host.close();

    expect((queuedInMemory?.active ?? 0) + (queuedInMemory?.locked ?? 0)).toBe(1);
    expect(host.runtime.queue.transport).toBe('in-memory');
    expect(onServiceBus).toHaveLength(0);
  });

  it('when true without a connection setting, then start-up fails naming the setting', async () => {
    const starting = startLocalHost({
      env: { ...embeddedTestSettings, Jobs__UseServiceBus: 'true' },
      port: 0,
    });

    await expect(starting).rejects.toThrow(/ServiceBusConnection/);
  });
});
