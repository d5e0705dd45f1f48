import { randomBytes, randomUUID } from 'node:crypto';
import type { JobRecord } from '../../src/jobs/model/jobRecord';
import type { StartedEmulator } from '../../tools/servicebus-emulator';
import { startServiceBusEmulator } from '../../tools/servicebus-emulator';
import { embeddedTestSettings } from '../support/embeddedRuntime';
import { jobRecordWhen, submitJob } from '../support/jobApi';
import type { Envelope, IngestionListener } from '../support/ingestion/ingestionListener';
import { startIngestionListener } from '../support/ingestion/ingestionListener';
import type { LocalHostProcess } from '../support/localHostProcess';
import { startLocalHostProcess } from '../support/localHostProcess';
import { queueName } from '../support/serviceBusApp';
import { waitFor } from '../support/waitFor';
import { deadLetterClient } from './deadLetterApiSuite';

// The app as users run it (`npm start`, a process of its own) with a connection string pointing at a local
// ingestion listener: what these tests see is what the exporter really sends.
const transports: Array<[string, (emulator: StartedEmulator) => Record<string, string>]> = [
  ['the in-memory queue', () => ({})],
  [
    'Service Bus (host settlement)',
    (emulator) => ({
      Jobs__UseServiceBus: 'true',
      ServiceBusConnection: emulator.connectionString,
      Jobs__ServiceBus__Settlement: 'host',
      Jobs__Store: 'memory',
    }),
  ],
];

describe.each(transports)('Application Insights telemetry on %s', (_, transportSettings) => {
  let emulator: StartedEmulator;
  let ingestion: IngestionListener;
  let app: LocalHostProcess;

  beforeAll(async () => {
    emulator = await startServiceBusEmulator({
      port: 0,
      queues: { [queueName]: { MaxDeliveryCount: 3, LockDuration: 'PT5S' } },
    });
    ingestion = await startIngestionListener();
    app = await startLocalHostProcess({
      ...embeddedTestSettings,
      Jobs__HandlerTimeoutMs: '5000',
      ...transportSettings(emulator),
      ...ingestion.env(),
    });
  }, 60_000);

  afterAll(async () => {
    const exitCode = await app?.stop('SIGTERM');
    expect(exitCode).toBe(0);
    await ingestion?.close();
    await emulator?.close();
  }, 60_000);

  const submit = (job: unknown, traceId: string) =>
    submitJob(app.url, job, { traceparent: `00-${traceId}-${randomSpanId()}-00` });

  const recordWhen = (jobId: string, status: JobRecord['status']) =>
    jobRecordWhen(app.url, jobId, (record) => record.status === status, {
      description: `job ${jobId} ${status}`,
    });

  function jobEvent(name: string, jobId: string, attempt?: number) {
    return ingestion.waitForEnvelope(`${name} of ${jobId}`, (envelope) => {
      const { baseData } = envelope.data;
      return (
        envelope.data.baseType === 'EventData' &&
        baseData.name === name &&
        baseData.properties?.jobId === jobId &&
        (attempt === undefined || baseData.properties.attempt === String(attempt))
      );
    });
  }

  it("puts a job's submit request, processing and outcome in one operation, without its payload", async () => {
    const traceId = randomTraceId();
    const secret = `payload-secret-${randomUUID()}`;
    const jobId = await submit(
      { jobType: 'diagnostics.simulate', payload: { durationMs: 1, note: secret }, correlationId: 'corr-1' },
      traceId,
    );
    await recordWhen(jobId, 'Completed');

    const request = await ingestion.waitForEnvelope('the submit request', (envelope) => {
      return envelope.data.baseType === 'RequestData' && envelope.tags['ai.operation.id'] === traceId;
    });
    expect(request.data.baseData).toMatchObject({
      name: 'POST /api/jobs',
      responseCode: '202',
      success: true,
    });
    const submitted = await jobEvent('JobSubmitted', jobId);
    const started = await jobEvent('JobStarted', jobId);
    const completed = await jobEvent('JobCompleted', jobId);
    for (const event of [submitted, started, completed]) {
      expect(event.tags['ai.operation.id']).toBe(traceId);
      expect(event.data.baseData.properties).toMatchObject({
        jobId,
        jobType: 'diagnostics.simulate',
        correlationId: 'corr-1',
        attempt: '1',
      });
    }
    expect(started.data.baseData.measurements?.queueLatencyMs).toBeGreaterThanOrEqual(0);
    expect(completed.data.baseData.measurements?.durationMs).toBeGreaterThan(0);

    const jobMetrics = ['JobAttempts', 'JobHandlerDurationMs', 'JobQueueLatencyMs'];
    await waitFor(
      () => {
        const sent = new Set(ingestion.envelopes.flatMap(metricNames));
        return jobMetrics.every((name) => sent.has(name)) || undefined;
      },
      { timeoutMs: 20_000, intervalMs: 50, description: `metrics ${jobMetrics.join(', ')}` },
    );
    expect(ingestion.bodies.join('\n')).not.toContain(secret);
  });

  it('reports a retried job as JobRetryScheduled then JobCompleted, in the trace it was submitted in', async () => {
    const traceId = randomTraceId();
    const jobId = await submit({ jobType: 'diagnostics.simulate', payload: { failTimes: 1 } }, traceId);
    await recordWhen(jobId, 'Completed');

    const retry = await jobEvent('JobRetryScheduled', jobId, 1);
    const completed = await jobEvent('JobCompleted', jobId, 2);
    expect(retry.tags['ai.operation.id']).toBe(traceId);
    expect(completed.tags['ai.operation.id']).toBe(traceId);
    expect(retry.data.baseData.properties).toMatchObject({ nextAttempt: '2' });
    expect(retry.data.baseData.measurements?.delayMs).toBeGreaterThanOrEqual(0);
    expect(Date.parse(retry.time)).toBeLessThanOrEqual(Date.parse(completed.time));
    const failure = await ingestion.waitForEnvelope('the failed attempt as an exception', (envelope) => {
      return envelope.data.baseType === 'ExceptionData' && envelope.data.baseData.properties?.jobId === jobId;
    });
    expect(failure.tags['ai.operation.id']).toBe(traceId);
    expect(failure.data.baseData.properties).toMatchObject({ attempt: '1', outcome: 'Failed' });
  });

  it('reports a dead-lettered job with its reason, and its replay in the same operation', async () => {
    const traceId = randomTraceId();
    const jobId = await submit({ jobType: 'diagnostics.simulate', payload: { poison: true } }, traceId);
    await recordWhen(jobId, 'DeadLettered');

    const deadLettered = await jobEvent('JobDeadLettered', jobId);
    expect(deadLettered.tags['ai.operation.id']).toBe(traceId);
    expect(deadLettered.data.baseData.properties).toMatchObject({
      reason: 'Poisoned',
      description: expect.stringContaining('Simulated permanent failure'),
    });

    const listing = (await (await fetch(`${app.url}/api/deadletters?reason=Poisoned`)).json()) as {
      items: Array<{ sequenceNumber: string; jobId: string }>;
    };
    const { sequenceNumber } = listing.items.find((item) => item.jobId === jobId)!;
    const replay = await deadLetterClient(app.url).replay(sequenceNumber, { payload: { poison: false } });
    expect(replay.status).toBe(202);
    await recordWhen(jobId, 'Completed');

    const replayed = await jobEvent('JobReplayed', jobId);
    const completed = await jobEvent('JobCompleted', jobId);
    expect(replayed.tags['ai.operation.id']).toBe(traceId);
    expect(completed.tags['ai.operation.id']).toBe(traceId);
    expect(replayed.data.baseData.properties).toMatchObject({
      sequenceNumber,
      reason: 'Poisoned',
      payloadCorrected: 'true',
    });
  });
});

function metricNames(envelope: Envelope): string[] {
  if (envelope.data.baseType !== 'MetricData') return [];
  const metrics = envelope.data.baseData.metrics as Array<{ name: string }> | undefined;
  return (metrics ?? []).map((metric) => metric.name);
}

function randomTraceId(): string {
  return randomBytes(16).toString('hex');
}

function randomSpanId(): string {
  return randomBytes(8).toString('hex');
}
