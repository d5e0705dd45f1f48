import { startAzurite } from '../../tools/azurite/startAzurite';
import type { LocalHost } from '../../tools/local-host/localHost';
import { startLocalHost } from '../../tools/local-host/localHost';
import { embeddedTestSettings } from '../support/embeddedRuntime';
import { jobRecordWhen, postJobs } from '../support/jobApi';
import { storedRecordWhen } from '../support/jobFixtures';
import { startLocalHostProcess } from '../support/localHostProcess';
import { describeJobApi, embeddedApp } from './jobApiSuite';

describeJobApi('embedded in-memory queue', embeddedApp);

describeJobApi('embedded in-memory queue, table store on Azurite', async () => {
  const azurite = await startAzurite();
  const host = await startLocalHost({
    env: { ...embeddedTestSettings, Jobs__Store: 'table', JobsStorage: azurite.connectionString },
    port: 0,
  });
  return {
    baseUrl: host.url,
    close: async () => {
      await host.close();
      await azurite.close();
    },
  };
});

describe('embedded mode', () => {
  it('reports in-memory mode on the health endpoint and never builds a Service Bus client', async () => {
    const host = await startLocalHost({ env: embeddedTestSettings, port: 0 });

    const health = (await (await fetch(`${host.url}/api/health`)).json()) as { mode: string };

    expect(health.mode).toBe('in-memory');
    expect(host.runtime.queue.transport).toBe('in-memory');
    await host.close();
  });
});

describe('local host shutdown', () => {
  /** Submits a diagnostics job that sleeps `durationMs` and waits until its handler is running; its job id. */
  async function runningJob(host: LocalHost, durationMs: number): Promise<string> {
    const { record } = await host.runtime.submission.submit({
      jobType: 'diagnostics.simulate',
      payload: { durationMs },
    });
    await storedRecordWhen(host.runtime.store, record.jobId, (current) => current.status === 'Running');
    return record.jobId;
  }

  it('when stopped with a job running, then it lets the job finish before it returns', async () => {
    const host = await startLocalHost({ env: embeddedTestSettings, port: 0 });
    const jobId = await runningJob(host, 150);

    const report = await host.close();

    expect((await host.runtime.store.get(jobId))?.record).toMatchObject({ status: 'Completed' });
    expect(report).toEqual({
      running: 1,
      interrupted: 0,
      interruptedJobsGo: 'lost with the in-memory queue',
    });
  });

  it('when a job outlives the shutdown deadline, then its handler is interrupted and the message abandoned', async () => {
    const host = await startLocalHost({
      env: { ...embeddedTestSettings, Jobs__ShutdownTimeoutMs: '50', Jobs__HandlerTimeoutMs: '60000' },
      port: 0,
    });
    const jobId = await runningJob(host, 60_000);

    const report = await host.close();

    expect((await host.runtime.store.get(jobId))?.record).toMatchObject({
      status: 'Retrying',
      lastOutcome: { status: 'Failed', errorMessage: 'The handler was interrupted by shutdown.' },
    });
    expect(host.runtime.embeddedQueue?.messageCount().active).toBe(1);
    expect(report).toMatchObject({ running: 1, interrupted: 1 });
  });
});

describe('npm start entry point', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    'when sent %s, then it stops gracefully and exits 0',
    async (signal) => {
      const app = await startLocalHostProcess(embeddedTestSettings);
      const health = await fetch(`${app.url}/api/health`);

      expect(health.status).toBe(200);
      expect(await app.stop(signal)).toBe(0);
      expect(JSON.parse(app.stdoutLines.at(-1)!)).toMatchObject({ message: 'Stopped; no job was running' });
    },
  );

  it('when stopped with a job running past the deadline, then it says what it waits for, and last what became of the job', async () => {
    const app = await startLocalHostProcess({
      ...embeddedTestSettings,
      Jobs__ShutdownTimeoutMs: '200',
      Jobs__HandlerTimeoutMs: '60000',
    });
    const response = await postJobs(app.url, {
      jobType: 'diagnostics.simulate',
      payload: { durationMs: 60_000 },
    });
    const { jobId } = (await response.json()) as { jobId: string };
    await jobRecordWhen(app.url, jobId, (record) => record.status === 'Running');

    expect(await app.stop('SIGINT')).toBe(0);

    const messages = app.stdoutLines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(messages).toContainEqual(
      expect.objectContaining({ message: 'Waiting for running jobs to finish', running: 1, upToMs: 200 }),
    );
    expect(messages.at(-1)).toMatchObject({
      message: 'Stopped; 0 of 1 running job finished, 1 interrupted and lost with the in-memory queue',
      running: 1,
      interrupted: 1,
    });
  });
});
