import { startLocalHost } from '../../tools/local-host/localHost';
import type { QueueProperties } from '../../tools/servicebus-emulator';
import { embeddedTestSettings } from '../support/embeddedRuntime';
import { getJobRecord, isSettled, jobRecordWhen, postJobs, submitJob } from '../support/jobApi';
import { startServiceBusWorld } from '../support/serviceBusApp';

/** A running app to drive over HTTP; each transport provides one. */
export interface JobApiHarness {
  readonly baseUrl: string;
  close(): Promise<void>;
}

/** The app in embedded mode: the in-memory queue and store. */
export async function embeddedApp(): Promise<JobApiHarness> {
  const host = await startLocalHost({ env: embeddedTestSettings, port: 0 });
  return {
    baseUrl: host.url,
    close: async () => {
      await host.close();
    },
  };
}

/** The app on the Service Bus emulator, its records on Azurite; closing it stops the emulator and Azurite too. */
export async function serviceBusApp(
  settlement: string,
  queue: Partial<QueueProperties> = {},
): Promise<JobApiHarness> {
  const world = await startServiceBusWorld(queue);
  const host = await world.startHost(settlement);
  return { baseUrl: host.url, close: () => world.close() };
}

/**
 * The end-to-end cases every transport must pass, driven only over HTTP. Harnesses run the app with
 * `Jobs__HandlerTimeoutMs=300` and quick retries (see `embeddedTestSettings`).
 */
export function describeJobApi(transport: string, startApp: () => Promise<JobApiHarness>): void {
  describe(`job API end to end (${transport})`, () => {
    let app: JobApiHarness;

    beforeAll(async () => {
      app = await startApp();
    });

    afterAll(() => app?.close());

    const submit = (body: unknown) => postJobs(app.baseUrl, body);

    const submitted = (body: unknown) => submitJob(app.baseUrl, body);

    const settled = (jobId: string, timeoutMs = 20_000) =>
      jobRecordWhen(app.baseUrl, jobId, isSettled, {
        timeoutMs,
        description: `job ${jobId} to settle`,
        read: getJobRecord,
      });

    it('when a job succeeds, then its record is Completed after one attempt', async () => {
      const jobId = await submitted({
        jobType: 'diagnostics.simulate',
        payload: { durationMs: 10 },
        subjectId: 's-1',
      });

      const record = await settled(jobId);

      expect(record).toMatchObject({
        status: 'Completed',
        attempt: 1,
        subjectId: 's-1',
        lastOutcome: { status: 'Completed' },
      });
    });

    it('when a job fails twice, then it completes at attempt 3 with the retries in its record', async () => {
      const jobId = await submitted({ jobType: 'diagnostics.simulate', payload: { failTimes: 2 } });

      const record = await settled(jobId);

      expect(record.status).toBe('Completed');
      expect(record.outcomes.map((outcome) => [outcome.attempt, outcome.status])).toEqual([
        [1, 'Failed'],
        [2, 'Failed'],
        [3, 'Completed'],
      ]);
    });

    it('when a job always fails, then it is dead-lettered MaxRetriesExceeded after exactly maxAttempts runs', async () => {
      const jobId = await submitted({
        jobType: 'diagnostics.simulate',
        payload: { failAlways: true },
        maxAttempts: 3,
      });

      const record = await settled(jobId);

      expect(record).toMatchObject({
        status: 'DeadLettered',
        deadLetterReason: 'MaxRetriesExceeded',
        attempt: 3,
      });
      expect(record.outcomes).toHaveLength(3);
      expect(record.deadLetterDescription).toMatch(/Failed 3 of 3 attempts/);
    });

    it('when a job is poisoned, then it is dead-lettered Poisoned after one run', async () => {
      const jobId = await submitted({ jobType: 'diagnostics.simulate', payload: { poison: true } });

      const record = await settled(jobId);

      expect(record).toMatchObject({ status: 'DeadLettered', deadLetterReason: 'Poisoned', attempt: 1 });
      expect(record.outcomes).toHaveLength(1);
    });

    it('when a handler runs past its timeout, then the attempt fails and the job is retried', async () => {
      const jobId = await submitted({
        jobType: 'diagnostics.simulate',
        payload: { durationMs: 5_000 },
        maxAttempts: 2,
      });

      const record = await settled(jobId);

      expect(record.outcomes.map((outcome) => outcome.attempt)).toEqual([1, 2]);
      expect(
        record.outcomes.every((outcome) => /did not finish within 300 ms/.test(outcome.errorMessage ?? '')),
      ).toBe(true);
      expect(record.deadLetterReason).toBe('MaxRetriesExceeded');
    });

    it('when the same idempotency key is submitted twice, then both answers name one job that runs once', async () => {
      const job = {
        jobType: 'diagnostics.simulate',
        payload: {},
        idempotencyKey: `e2e-${Date.now()}-${Math.random()}`,
      };

      const first = await submit(job);
      const second = await submit(job);

      expect([first.status, second.status]).toEqual([202, 200]);
      const [a, b] = [(await first.json()) as { jobId: string }, (await second.json()) as { jobId: string }];
      expect(b.jobId).toBe(a.jobId);
      expect((await settled(a.jobId)).outcomes).toHaveLength(1);
    });

    it('when 30 requests with one key arrive at once, then exactly one is 202, the others 200 with the same job, none 5xx, and it runs once (regression: most were 503)', async () => {
      const key = `burst-${Date.now()}-${Math.random()}`;
      const job = { jobType: 'diagnostics.simulate', payload: { durationMs: 50 } };

      const responses = await Promise.all(
        Array.from({ length: 30 }, () => postJobs(app.baseUrl, job, { 'idempotency-key': key })),
      );

      const statuses = responses.map((response) => response.status);
      expect(statuses.filter((status) => status === 202)).toHaveLength(1);
      expect(statuses.filter((status) => status === 200)).toHaveLength(29);
      const jobIds = await Promise.all(
        responses.map(async (response) => ((await response.json()) as { jobId: string }).jobId),
      );
      expect(new Set(jobIds).size).toBe(1);
      expect((await settled(jobIds[0] as string)).outcomes).toHaveLength(1);
    });

    it('when a batch repeats with its key, then every job of it is read, none created again, and each runs once', async () => {
      const key = `batch-${Date.now()}-${Math.random()}`;
      const jobs = Array.from({ length: 5 }, () => ({ jobType: 'diagnostics.simulate', payload: {} }));

      const first = await postJobs(app.baseUrl, jobs, { 'idempotency-key': key });
      const repeat = await postJobs(app.baseUrl, jobs, { 'idempotency-key': key });

      expect([first.status, repeat.status]).toEqual([202, 200]);
      const created = (await first.json()) as Array<{ jobId: string; created: boolean }>;
      const read = (await repeat.json()) as Array<{ jobId: string; created: boolean }>;
      expect(created.map(({ created }) => created)).toEqual([true, true, true, true, true]);
      expect(read).toEqual(
        created.map((entry) => ({ ...entry, created: false, status: expect.any(String) })),
      );
      const records = await Promise.all(created.map(({ jobId }) => settled(jobId)));
      expect(records.map((record) => record.outcomes.length)).toEqual([1, 1, 1, 1, 1]);
    });

    it('when a batch of 100 jobs is submitted, then every one completes', async () => {
      const response = await submit(
        Array.from({ length: 100 }, (_, index) => ({
          jobType: 'diagnostics.simulate',
          subjectId: `b-${index}`,
        })),
      );

      expect(response.status).toBe(202);
      const accepted = (await response.json()) as Array<{ jobId: string; created: boolean }>;
      expect(accepted).toHaveLength(100);
      const records = await Promise.all(accepted.map(({ jobId }) => settled(jobId, 40_000)));
      expect(records.every((record) => record.status === 'Completed')).toBe(true);
    });
  });
}
