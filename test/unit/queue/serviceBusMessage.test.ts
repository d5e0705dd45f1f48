import { firstMessageOf, retryMessageOf } from '../../../src/jobs/model/outgoingJobMessage';
import { toServiceBusMessage } from '../../../src/queue/serviceBusJobMessage';
import type { ServiceBusMessage } from '@azure/service-bus';
import { message as amqpMessage } from 'rhea';
import { jobMessage } from '../../support/jobFixtures';

/** The application properties as a receiver decodes them off the wire. */
const sentProperties = (sent: ServiceBusMessage) =>
  amqpMessage.decode(amqpMessage.encode({ application_properties: sent.applicationProperties } as never))
    .application_properties;

/** The AMQP type each application property is encoded with. */
const wireTypes = (sent: ServiceBusMessage) =>
  Object.fromEntries(
    Object.entries(sent.applicationProperties ?? {}).map(([name, value]) => [
      name,
      (value as { type?: { name?: string } } | null)?.type?.name ?? typeof value,
    ]),
  );

describe('toServiceBusMessage', () => {
  it('shapes a job as the C# producer does, MessageId being the idempotency key', () => {
    const job = jobMessage({
      idempotencyKey: 'order-9',
      jobType: 'document.delete',
      createdAt: '2025-12-12T00:00:00+00:00',
    });

    const message = toServiceBusMessage({ ...firstMessageOf(job), recordEtag: 'W/"1"' });

    expect(message).toMatchObject({
      messageId: 'order-9',
      correlationId: 'order-9',
      subject: 'document.delete',
      contentType: 'application/json',
    });
    expect(sentProperties(message)).toEqual({
      JobType: 'document.delete',
      Attempt: 1,
      CreatedAt: '2025-12-12T00:00:00+00:00',
      JobRecordETag: 'W/"1"',
    });
    expect(JSON.parse((message.body as Buffer).toString('utf8'))).toEqual({ ...job, isAtMaxAttempts: false });
  });

  it('gives each retry copy its own message id and the next attempt, without a record version', () => {
    const job = jobMessage({ idempotencyKey: 'order-9' });

    const retry = toServiceBusMessage(retryMessageOf(job, 1, 2));

    expect(retry.messageId).toBe(`${job.jobId}:attempt-2`);
    expect(sentProperties(retry)).toEqual({
      JobType: job.jobType,
      Attempt: 2,
      CreatedAt: job.createdAt,
    });
  });

  it('sends Attempt and JobAttemptCycle as AMQP int, as the C# producer does (not the uint a number defaults to)', () => {
    const replayRetry = toServiceBusMessage(retryMessageOf(jobMessage({}), 2, 2));

    // SmallInt is the one-byte encoding of AMQP's int type.
    const int = expect.stringMatching(/^(Small)?Int$/);
    expect(wireTypes(replayRetry)).toMatchObject({ Attempt: int, JobAttemptCycle: int, JobType: 'string' });
  });

  it('carries a replay cycle as JobAttemptCycle, under message ids no earlier cycle used', () => {
    const job = jobMessage({ idempotencyKey: 'order-9' });

    const replay = toServiceBusMessage(firstMessageOf(job, undefined, 2));
    const replayRetry = toServiceBusMessage(retryMessageOf(job, 2, 2));

    expect(replay.messageId).toBe(`${job.jobId}:cycle-2:attempt-1`);
    expect(replayRetry.messageId).toBe(`${job.jobId}:cycle-2:attempt-2`);
    expect(replayRetry.messageId).not.toBe(toServiceBusMessage(retryMessageOf(job, 1, 2)).messageId);
    expect(sentProperties(replay)).toMatchObject({ JobAttemptCycle: 2, Attempt: 1 });
    expect(toServiceBusMessage(firstMessageOf(job)).applicationProperties).not.toHaveProperty(
      'JobAttemptCycle',
    );
  });

  it("carries the sender's trace context as Diagnostic-Id, on first sends and retry copies alike", () => {
    const job = jobMessage({});
    const traceParent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

    expect(toServiceBusMessage(firstMessageOf(job, traceParent)).applicationProperties).toMatchObject({
      'Diagnostic-Id': traceParent,
    });
    expect(toServiceBusMessage(retryMessageOf(job, 1, 2, traceParent)).applicationProperties).toMatchObject({
      'Diagnostic-Id': traceParent,
    });
  });
});
