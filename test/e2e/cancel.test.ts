import type { JobRecord } from '../../src/jobs/model/jobRecord';
import { createLogger } from '../../src/jobs/support/logger';
import type { LocalHost } from '../../tools/local-host/localHost';
import { startLocalHost } from '../../tools/local-host/localHost';
import { runCliProcess } from '../support/cliProcess';
import { embeddedTestSettings } from '../support/embeddedRuntime';
import { isSettled, jobRecordWhen, submitJob } from '../support/jobApi';
import type { ServiceBusWorld } from '../support/serviceBusApp';
import { serviceBusSettings, startServiceBusWorld } from '../support/serviceBusApp';
import { waitFor } from '../support/waitFor';

// Long enough to cancel a job during its retry backoff or its run, short enough to see the retry copy come back.
const cancelSettings = {
  Jobs__HandlerTimeoutMs: '20000',
  Jobs__Retry__BaseDelayMs: '1500',
  Jobs__Retry__MaxDelayMs: '1500',
  Jobs__Retry__Jitter: '0',
  Jobs__CancelCheckIntervalMs: '200',
};

interface CancelHarness {
  readonly url: string;
  /** The app's log lines, parsed. */
  readonly logs: Array<{ message: string; jobId?: string }>;
}

function cancel(url: string, jobId: string): Promise<Response> {
  return fetch(`${url}/api/jobs/${jobId}/cancel`, { method: 'POST' });
}

const settled = (url: string, jobId: string) => jobRecordWhen(url, jobId, isSettled);

function describeCancel(transport: string, start: () => Promise<CancelHarness & { close(): Promise<void> }>) {
  describe(`cancel (${transport})`, () => {
    let app: CancelHarness & { close(): Promise<void> };

    beforeAll(async () => {
      app = await start();
    });

    afterAll(() => app?.close());

    it('when a job is running, then its handler stops and it ends Cancelled', async () => {
      const jobId = await submitJob(app.url, {
        jobType: 'diagnostics.simulate',
        payload: { durationMs: 15_000 },
      });
      await jobRecordWhen(app.url, jobId, (record) => record.status === 'Running');

      const response = await cancel(app.url, jobId);

      expect(response.status).toBe(202);
      expect(await response.json()).toMatchObject({
        jobId,
        status: 'Running',
        cancelRequestedAt: expect.any(String),
      });
      expect(await settled(app.url, jobId)).toMatchObject({
        status: 'Cancelled',
        attempt: 1,
        lastOutcome: { status: 'Failed', errorMessage: 'The job was cancelled.' },
      });
    });

    it('when a job waits out a retry backoff, then it is Cancelled and its retry copy completes without a run', async () => {
      const jobId = await submitJob(app.url, { jobType: 'diagnostics.simulate', payload: { failTimes: 1 } });
      await jobRecordWhen(app.url, jobId, (record) => record.status === 'Retrying');

      const response = await cancel(app.url, jobId);

      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ jobId, status: 'Cancelled' });
      await waitFor(
        () =>
          app.logs.find(
            (line) =>
              line.jobId === jobId &&
              line.message === 'Completing a message of a cancelled job without running it',
          ),
        { description: `the retry copy of ${jobId}` },
      );
      expect(await settled(app.url, jobId)).toMatchObject({
        status: 'Cancelled',
        attempt: 1,
        outcomes: [{ attempt: 1 }],
      });
    });

    it('when a job finished, then a cancel answers 409 naming its status, and changes nothing', async () => {
      const jobId = await submitJob(app.url, { jobType: 'diagnostics.simulate', payload: {} });
      const before = await settled(app.url, jobId);

      const response = await cancel(app.url, jobId);

      expect(response.status).toBe(409);
      expect(await response.json()).toMatchObject({ status: 409, jobStatus: 'Completed' });
      expect(await settled(app.url, jobId)).toEqual(before);
    });

    it('when cancels race quick jobs, then each job ends as its cancel answer says, and a cancelled job never completes', async () => {
      const jobIds = await Promise.all(
        Array.from({ length: 20 }, (_, index) =>
          submitJob(app.url, { jobType: 'diagnostics.simulate', payload: { durationMs: index % 5 } }),
        ),
      );
      const answers = await Promise.all(jobIds.map((jobId) => cancel(app.url, jobId).then((r) => r.status)));
      const records: JobRecord[] = await Promise.all(jobIds.map((jobId) => settled(app.url, jobId)));

      records.forEach((record, index) => {
        const answer = answers[index];
        if (answer === 409) expect(record.status).toBe('Completed');
        else expect(record).toMatchObject({ status: 'Cancelled', completedAt: expect.any(String) });
        // Cancelled before any run: none happened; cancelled while running: that run is the only one.
        if (answer === 200) expect(record).toMatchObject({ attempt: 0, outcomes: [] });
        if (answer === 202) expect(record.attempt).toBe(1);
      });
      expect(answers.every((status) => [200, 202, 409].includes(status))).toBe(true);
    });
  });
}

function capturingLogger() {
  const logs: CancelHarness['logs'] = [];
  const logger = createLogger('info', { write: (line) => logs.push(JSON.parse(line)) });
  return { logs, logger };
}

describeCancel('embedded', async () => {
  const { logs, logger } = capturingLogger();
  const host = await startLocalHost({
    env: { ...embeddedTestSettings, ...cancelSettings },
    port: 0,
    overrides: { logger },
  });
  return {
    url: host.url,
    logs,
    close: async () => {
      await host.close();
    },
  };
});

for (const settlement of ['host', 'explicit']) {
  describeCancel(`Service Bus, ${settlement} settlement`, async () => {
    const world = await startServiceBusWorld();
    const { logs, logger } = capturingLogger();
    const host: LocalHost = await world.startHost(settlement, cancelSettings, { logger });
    return { url: host.url, logs, close: () => world.close() };
  });
}

describe('npm run jobs', () => {
  const jobsCli = (args: string[], env: Record<string, string>) => runCliProcess('jobs', args, env);

  it('when the job id is not one, then it says so in one line and points at --help, exit code 2', async () => {
    const shown = await jobsCli(['show', 'nonexistent-id'], embeddedTestSettings);

    expect(shown).toEqual({
      code: 2,
      stdout: '',
      stderr:
        "'nonexistent-id' is not a job id (a GUID).\nSee `npm run jobs -- --help` for the commands and options.\n",
    });
  });

  it('when a running job is cancelled through the CLI, in-process on Service Bus and over HTTP embedded, then it ends Cancelled; a finished one exits 1', async () => {
    const world: ServiceBusWorld = await startServiceBusWorld();
    const embedded = await startLocalHost({ env: { ...embeddedTestSettings, ...cancelSettings }, port: 0 });
    try {
      const onServiceBus = await world.startHost('explicit', cancelSettings);
      const serviceBusEnv = serviceBusSettings(world.emulator, world.azurite, 'explicit', cancelSettings);
      for (const [url, env, extra] of [
        [onServiceBus.url, serviceBusEnv, []],
        [embedded.url, embeddedTestSettings, ['--url', embedded.url]],
      ] as const) {
        const jobId = await submitJob(url, {
          jobType: 'diagnostics.simulate',
          payload: { durationMs: 15_000 },
        });
        await jobRecordWhen(url, jobId, (record) => record.status === 'Running');

        const cancelled = await jobsCli(['cancel', jobId, ...extra], env);
        // In-process on Service Bus the CLI cannot reach the worker: the worker sees the cancel on the record.
        const ended = await settled(url, jobId);
        const again = await jobsCli(['cancel', jobId, ...extra], env);
        const shown = await jobsCli(['show', jobId, ...extra], env);

        expect(cancelled).toMatchObject({ code: 0, stderr: '' });
        expect(cancelled.stdout).toMatch(new RegExp(`Cancel requested for job ${jobId}`));
        expect(ended).toMatchObject({ status: 'Cancelled' });
        expect(again.code).toBe(1);
        expect(`${again.stdout}${again.stderr}`).toMatch(/Cancelled: there is nothing to cancel/);
        expect(JSON.parse(shown.stdout)).toMatchObject({ jobId, status: 'Cancelled' });
      }
    } finally {
      await embedded.close();
      await world.close();
    }
  });
});
