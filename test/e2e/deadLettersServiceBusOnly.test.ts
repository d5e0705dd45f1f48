import { ServiceBusClient } from '@azure/service-bus';
import { ServiceBusJobQueue } from '../../src/queue/serviceBusJobQueue';
import { startLocalHost } from '../../tools/local-host/localHost';
import { isSettled } from '../support/jobApi';
import type { ServiceBusWorld } from '../support/serviceBusApp';
import { queueName, quickRetries, serviceBusSettings, startServiceBusWorld } from '../support/serviceBusApp';
import { TcpProxy } from '../support/tcpProxy';
import { waitFor } from '../support/waitFor';
import { deadLetterClient } from './deadLetterApiSuite';

describe('dead-letter operations on Service Bus', () => {
  let world: ServiceBusWorld;

  beforeEach(async () => {
    world = await startServiceBusWorld();
  });

  afterEach(() => world?.close());

  it('in host settlement, when the broker says MaxDeliveryCountExceeded, then the listing shows the reason recorded for the job, and a body that is not JSON reads InvalidFormat', async () => {
    const host = await world.startHost('host');
    const dlq = deadLetterClient(host.url);
    const jobId = await dlq.submit({ jobType: 'diagnostics.simulate', payload: { poison: true } });
    await world.send({
      body: Buffer.from('<job>not json</job>'),
      messageId: 'not-a-job',
      contentType: 'text/xml',
    });

    const job = await dlq.deadLettered(jobId);
    const garbage = await waitFor(
      async () => (await dlq.list()).items.find((item) => item.messageId === 'not-a-job'),
      {
        timeoutMs: 20_000,
        intervalMs: 50,
        description: 'the malformed message in the dead-letter sub-queue',
      },
    );
    const onTheBroker = await world.peekDeadLetters();
    const listing = await dlq.list();

    expect(onTheBroker.map((message) => message.deadLetterReason)).toEqual([
      'MaxDeliveryCountExceeded',
      'MaxDeliveryCountExceeded',
    ]);
    expect(job).toMatchObject({ reason: 'Poisoned', attempts: 1 });
    expect(job.description).toMatch(/poison: true/);
    expect(garbage).toMatchObject({ reason: 'InvalidFormat', jobId: null, jobType: null, attempts: 0 });
    expect(garbage.description).toMatch(/not JSON/);
    expect(listing.counts).toEqual({
      byReason: { Poisoned: 1, InvalidFormat: 1 },
      byJobType: { 'diagnostics.simulate': 1, '(not a job)': 1 },
    });
    expect((await dlq.list('?reason=InvalidFormat')).items).toEqual([garbage]);

    const refused = await dlq.replay(garbage.sequenceNumber);

    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { detail: string }).detail).toMatch(/not a job.*discard it/);
    expect((await dlq.discard(garbage.sequenceNumber)).status).toBe(200);
    expect((await dlq.discard(job.sequenceNumber)).status).toBe(200);
    expect((await dlq.list()).scanned).toBe(0);
  });

  it('when Service Bus cannot take the replay, then the answer is 503 and the message and the record stay as they were', async () => {
    // Only the app's sender goes through the proxy: the dead-letter sub-queue stays reachable, so the send fails
    // after the message was locked and the record reset, which is the path that must put everything back.
    const proxy = new TcpProxy('127.0.0.1', world.emulator.port);
    await proxy.start();
    const viaProxy = world.emulator.connectionString.replace(`:${world.emulator.port};`, `:${proxy.port};`);
    const queue = new ServiceBusJobQueue(
      new ServiceBusClient(viaProxy, { retryOptions: quickRetries }),
      queueName,
    );
    const host = await startLocalHost({
      env: serviceBusSettings(world.emulator, world.azurite, 'explicit'),
      port: 0,
      overrides: { queue },
    });
    try {
      const dlq = deadLetterClient(host.url);
      const jobId = await dlq.submit({
        jobType: 'diagnostics.simulate',
        payload: { failTimes: 1 },
        maxAttempts: 1,
      });
      const item = await dlq.deadLettered(jobId);
      await proxy.cut();

      const refused = await dlq.replay(item.sequenceNumber);

      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('5');
      expect(refused.headers.get('content-type')).toBe('application/problem+json');
      expect((await dlq.list()).items).toEqual([item]);
      expect(await dlq.record(jobId)).toMatchObject({
        status: 'DeadLettered',
        deadLetterReason: 'MaxRetriesExceeded',
        attempt: 1,
        deadLetterActions: [],
      });

      await proxy.restore();
      const replayed = await dlq.replay(item.sequenceNumber);

      expect(replayed.status).toBe(202);
      expect(await dlq.recordWhen(jobId, isSettled)).toMatchObject({ status: 'Completed', attempt: 1 });
      expect((await dlq.list()).scanned).toBe(0);
    } finally {
      await proxy.cut();
      await host.close();
    }
  });
});
