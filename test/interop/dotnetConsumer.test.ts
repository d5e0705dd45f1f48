import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServiceBusReceivedMessage } from '@azure/service-bus';
import { postJobs, submitJob } from '../support/jobApi';
import type { ServiceBusWorld } from '../support/serviceBusApp';
import { queueName, startServiceBusWorld } from '../support/serviceBusApp';
import { waitFor } from '../support/waitFor';
import type { DotnetTestResult } from './dotnetTests';
import { failuresOf, runDotnetTests } from './dotnetTests';
import { Long } from '../../src/queue/sdkLong';

/** Every message on the app's queue, active or scheduled, read without taking it. */
async function peekQueue(world: ServiceBusWorld): Promise<ServiceBusReceivedMessage[]> {
  const receiver = world.client.createReceiver(queueName);
  try {
    return await receiver.peekMessages(100, { fromSequenceNumber: Long.ONE });
  } finally {
    await receiver.close();
  }
}

describe("the platform's C# consumer reads the messages the app sends", () => {
  let world: ServiceBusWorld;
  let directory: string;
  let sent: { messageId: string; body: Record<string, unknown> }[];
  let results: DotnetTestResult[];

  beforeAll(async () => {
    world = await startServiceBusWorld({ MaxDeliveryCount: 3 });

    // A retry copy: a job fails once in a host that runs jobs, its copy is scheduled 8 s out, and that host stops
    // before the copy is due.
    const runner = await world.startHost('explicit', {
      Jobs__Retry__BaseDelayMs: '8000',
      Jobs__Retry__MaxDelayMs: '8000',
    });
    const retried = await submitJob(runner.url, {
      jobType: 'diagnostics.simulate',
      payload: { failTimes: 1, note: 'retried' },
      subjectId: 'subject-retried',
      correlationId: 'correlation-retried',
      idempotencyKey: 'key-retried',
    });
    await waitFor(
      async () => (await peekQueue(world)).find((message) => message.messageId === `${retried}:attempt-2`),
      { timeoutMs: 20_000, intervalMs: 50, description: 'the retry copy on the queue' },
    );
    await runner.close();

    // First sends, left on the queue by a host whose trigger is off, as `AzureWebJobs.processJob.Disabled` turns
    // it off in Azure: one job, and a batch of two, one of them without an idempotency key.
    const submitter = await world.startHost('explicit', { 'AzureWebJobs.processJob.Disabled': 'true' });
    const single = await submitJob(submitter.url, {
      jobType: 'diagnostics.simulate',
      payload: { durationMs: 1, note: 'Grüße, 東京 — "quoted"' },
      subjectId: 'subject-single',
      correlationId: 'correlation-single',
      idempotencyKey: 'key-single',
      maxAttempts: 5,
    });
    const batch = await postJobs(submitter.url, [
      { jobType: 'diagnostics.simulate', payload: { note: 'batch with key' }, idempotencyKey: 'key-batch' },
      { jobType: 'diagnostics.simulate', payload: {} },
    ]);
    expect(batch.status).toBe(202);
    const batchJobs = ((await batch.json()) as { jobId: string }[]).map(({ jobId }) => jobId);

    const jobIds = [retried, single, ...batchJobs];
    const onQueue = await waitFor(
      async () => {
        const messages = await peekQueue(world);
        return messages.length >= jobIds.length ? messages : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 50, description: 'every job on the queue' },
    );
    sent = onQueue.map((message) => ({
      messageId: String(message.messageId),
      body: message.body as Record<string, unknown>,
    }));
    expect(sent.map(({ body }) => [body.jobId, body.attempt]).sort()).toEqual(
      [
        [retried, 2],
        [single, 1],
        [batchJobs[0], 1],
        [batchJobs[1], 1],
      ].sort(),
    );

    directory = mkdtempSync(join(tmpdir(), 'dotnet-consumer-'));
    const sentJobs = join(directory, 'sent-jobs.json');
    writeFileSync(sentJobs, JSON.stringify(sent.map(({ messageId, body }) => ({ messageId, ...body }))));
    results = await runDotnetTests(['ConsumerTests'], {
      SDAP_INTEROP_APP_SERVICEBUS: world.emulator.connectionString,
      SDAP_INTEROP_APP_QUEUE: queueName,
      SDAP_INTEROP_SENT_JOBS: sentJobs,
    });
  }, 300_000);

  afterAll(async () => {
    if (directory) rmSync(directory, { recursive: true, force: true });
    await world?.close();
  });

  it('sends the ADR-004 body with the values submitted, and the retry copy with the next attempt', () => {
    const single = sent.find(({ body }) => body.subjectId === 'subject-single')?.body;
    expect(single).toMatchObject({
      jobType: 'diagnostics.simulate',
      correlationId: 'correlation-single',
      idempotencyKey: 'key-single',
      attempt: 1,
      maxAttempts: 5,
      payload: { durationMs: 1, note: 'Grüße, 東京 — "quoted"' },
    });
    const retry = sent.find(({ body }) => body.subjectId === 'subject-retried');
    expect(retry?.body).toMatchObject({
      attempt: 2,
      idempotencyKey: 'key-retried',
      payload: { failTimes: 1 },
    });
  });

  it('deserializes each into the C# JobContract with every field kept (interop/dotnet/ConsumerTests.cs)', () => {
    expect(failuresOf(results, 'ConsumerTests')).toEqual([]);
  });
});
