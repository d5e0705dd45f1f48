import { randomUUID } from 'node:crypto';
import type { ServiceBusMessage } from '@azure/service-bus';
import type { LocalHost } from '../../tools/local-host/localHost';
import { fetchJobRecord, isSettled, jobRecordWhen, postJobs } from '../support/jobApi';
import { cSharpProducerBody } from '../support/jobFixtures';
import type { ServiceBusWorld } from '../support/serviceBusApp';
import { startServiceBusWorld } from '../support/serviceBusApp';

/** A message exactly as the platform's C# JobSubmissionService sends it (REFERENCE.md). */
function cSharpProducerMessage(body: Record<string, unknown>): ServiceBusMessage {
  return {
    body: Buffer.from(JSON.stringify(body), 'utf8'),
    contentType: 'application/json',
    messageId: String(body.jobId),
    correlationId: String(body.idempotencyKey ?? ''),
    subject: String(body.jobType),
    applicationProperties: {
      JobType: String(body.jobType),
      Attempt: Number(body.attempt),
      CreatedAt: String(body.createdAt),
    },
  };
}

const settledRecord = (host: LocalHost, jobId: string) =>
  jobRecordWhen(host.url, jobId, isSettled, { description: `job ${jobId} to settle` });

/**
 * The most common way JavaScript code sends JSON: `body: JSON.stringify(job)`. The SDK encodes a string body as
 * JSON once more, so the job arrives as JSON text inside a JSON string.
 */
async function sendAsJsonText(world: ServiceBusWorld, host: LocalHost): Promise<void> {
  const body = cSharpProducerBody({ idempotencyKey: `js-${randomUUID()}` });

  await world.send({ body: JSON.stringify(body), messageId: String(body.jobId) });

  expect(await settledRecord(host, String(body.jobId))).toMatchObject({ status: 'Completed', attempt: 1 });
}

const invalidMessages = [
  {
    reason: 'InvalidFormat',
    description: /not JSON/,
    message: (): ServiceBusMessage => ({ body: Buffer.from('<job>not json</job>'), messageId: randomUUID() }),
  },
  {
    reason: 'InvalidFormat',
    description: /not a valid job: jobId/,
    message: (): ServiceBusMessage => ({
      body: Buffer.from(JSON.stringify({ hello: 'world' })),
      messageId: randomUUID(),
    }),
  },
  {
    reason: 'NoHandler',
    description: /No handler for job type 'reports.unknown'/,
    message: () => cSharpProducerMessage(cSharpProducerBody({ jobType: 'reports.unknown' })),
  },
  {
    reason: 'InvalidPayload',
    description: /payload\.durationMs/,
    message: () => cSharpProducerMessage(cSharpProducerBody({ payload: { durationMs: 'soon' } })),
  },
  {
    reason: 'InvalidPayload',
    description: /payload\.durationMS: Unknown field/,
    message: () => cSharpProducerMessage(cSharpProducerBody({ payload: { durationMS: 5 } })),
  },
];

describe('Service Bus only, explicit settlement', () => {
  let world: ServiceBusWorld;
  let host: LocalHost;

  beforeAll(async () => {
    world = await startServiceBusWorld();
    host = await world.startHost('explicit');
  });

  afterAll(() => world?.close());

  it('when the C# producer sends a job straight to the queue, then it is processed and its record is readable', async () => {
    const body = cSharpProducerBody({
      isAtMaxAttempts: false,
      idempotencyKey: `cs-${randomUUID()}`,
      subjectId: 'doc-9',
    });

    await world.send(cSharpProducerMessage(body));

    expect(await settledRecord(host, String(body.jobId))).toMatchObject({
      status: 'Completed',
      attempt: 1,
      subjectId: 'doc-9',
    });
  });

  it('when a JavaScript producer sends the job as JSON text, then it is processed', () =>
    sendAsJsonText(world, host));

  it.each(invalidMessages)(
    'when a message fails as $reason, then it is dead-lettered with that reason and a description after one delivery',
    async ({ reason, description, message }) => {
      const sent = message();

      await world.send(sent);

      const deadLettered = await world.waitForDeadLetter((m) => m.messageId === sent.messageId);
      expect(deadLettered.deadLetterReason).toBe(reason);
      expect(deadLettered.deadLetterErrorDescription).toMatch(description);
      expect(deadLettered.deliveryCount).toBe(0);
    },
  );

  it.each([
    ['MaxRetriesExceeded', { failAlways: true }, /Failed 2 of 2 attempts/],
    ['Poisoned', { poison: true }, /Simulated permanent failure/],
  ])(
    'when a job ends %s, then the dead-letter message and the record agree',
    async (reason, payload, description) => {
      const response = await postJobs(host.url, { jobType: 'diagnostics.simulate', payload, maxAttempts: 2 });
      const { jobId } = (await response.json()) as { jobId: string };

      const record = await settledRecord(host, jobId);
      const deadLettered = await world.waitForDeadLetter(
        (m) => (m.body as { jobId?: string })?.jobId === jobId,
      );

      expect(record).toMatchObject({ status: 'DeadLettered', deadLetterReason: reason });
      expect(deadLettered.deadLetterReason).toBe(reason);
      expect(deadLettered.deadLetterErrorDescription).toBe(record.deadLetterDescription);
      expect(deadLettered.deadLetterErrorDescription).toMatch(description);
    },
  );
});

describe('Service Bus only, host settlement', () => {
  let world: ServiceBusWorld;
  let host: LocalHost;

  beforeAll(async () => {
    world = await startServiceBusWorld({ MaxDeliveryCount: 3 });
    host = await world.startHost('host');
  });

  afterAll(() => world?.close());

  it('when a JavaScript producer sends the job as JSON text, then it is processed', () =>
    sendAsJsonText(world, host));

  it('when a job is poisoned, then it reaches the dead-letter queue through MaxDeliveryCount, the handler ran once, and the record has the real reason', async () => {
    const body = cSharpProducerBody({ payload: { poison: true } });

    await world.send(cSharpProducerMessage(body));

    const deadLettered = await world.waitForDeadLetter((m) => m.messageId === body.jobId);
    expect(deadLettered.deadLetterReason).toBe('MaxDeliveryCountExceeded');
    const record = await fetchJobRecord(host.url, String(body.jobId));
    expect(record).toMatchObject({ status: 'DeadLettered', deadLetterReason: 'Poisoned', attempt: 1 });
    expect(record?.outcomes).toHaveLength(1);
  });

  it.each(invalidMessages.filter(({ reason }) => reason !== 'InvalidFormat'))(
    'when a message fails as $reason, then the broker dead-letters it after MaxDeliveryCount and the record carries $reason',
    async ({ reason, description, message }) => {
      const sent = message();

      await world.send(sent);

      const deadLettered = await world.waitForDeadLetter((m) => m.messageId === sent.messageId);
      expect(deadLettered.deadLetterReason).toBe('MaxDeliveryCountExceeded');
      const record = await fetchJobRecord(host.url, String(sent.messageId));
      expect(record).toMatchObject({ status: 'DeadLettered', deadLetterReason: reason, attempt: 0 });
      expect(record?.deadLetterDescription).toMatch(description);
    },
  );

  it('when a message is not a job, then the broker dead-letters it after MaxDeliveryCount', async () => {
    const sent = invalidMessages[0]!.message();

    await world.send(sent);

    const deadLettered = await world.waitForDeadLetter((m) => m.messageId === sent.messageId);
    expect(deadLettered.deadLetterReason).toBe('MaxDeliveryCountExceeded');
    expect(deadLettered.deliveryCount).toBe(3);
  });
});
