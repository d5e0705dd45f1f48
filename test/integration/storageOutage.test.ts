import { TableClient } from '@azure/data-tables';
import { TableJobStore } from '../../src/store/tableJobStore';
import { startAzurite } from '../../tools/azurite/startAzurite';
import type { StartedAzurite } from '../../tools/azurite/startAzurite';
import { startLocalHost } from '../../tools/local-host/localHost';
import type { LocalHost } from '../../tools/local-host/localHost';
import { createLogger } from '../../src/jobs/support/logger';
import { embeddedTestSettings } from '../support/embeddedRuntime';
import { postJobs } from '../support/jobApi';
import { storedRecordWhen } from '../support/jobFixtures';
import { TcpProxy } from '../support/tcpProxy';
import { waitFor } from '../support/waitFor';

let azurite: StartedAzurite;

beforeAll(async () => {
  azurite = await startAzurite();
});

afterAll(() => azurite?.close());

function tableSettings(connectionString: string) {
  return { ...embeddedTestSettings, Jobs__Store: 'table', JobsStorage: connectionString };
}

describe('table store', () => {
  it('when the app restarts, then job records and documents written before are still there', async () => {
    const first = await startLocalHost({ env: tableSettings(azurite.connectionString), port: 0 });
    await first.runtime.documents.stage('incoming/report.pdf', {
      content: Buffer.from('%PDF-1.7'),
      contentType: 'application/pdf',
      metadata: { owner: 'u-1' },
    });
    const { record } = await first.runtime.submission.submit({
      jobType: 'document.upload',
      payload: { stagingKey: 'incoming/report.pdf', container: 'contracts', documentId: 'report-1' },
    });
    await storedRecordWhen(first.runtime.store, record.jobId, (current) => current.status === 'Completed');
    await first.close();

    const second = await startLocalHost({ env: tableSettings(azurite.connectionString), port: 0 });
    const response = await fetch(`${second.url}/api/jobs/${record.jobId}`);
    const document = await second.runtime.documents.get('contracts', 'report-1');
    await second.close();

    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ jobId: record.jobId, status: 'Completed' });
    expect(document).toEqual({
      content: Buffer.from('%PDF-1.7'),
      contentType: 'application/pdf',
      metadata: { owner: 'u-1' },
    });
  });

  it('when storage accepts connections but never answers, then a call fails as unavailable instead of hanging', async () => {
    const tablePort = Number(new URL(azurite.tableEndpoint).port);
    const proxy = new TcpProxy('127.0.0.1', tablePort);
    proxy.swallow = true;
    await proxy.start();
    const table = TableClient.fromConnectionString(
      azurite.connectionString.replace(`:${tablePort}/`, `:${proxy.port}/`),
      'Hanging',
      { allowInsecureConnection: true, retryOptions: { maxRetries: 1, retryDelayInMs: 50 } },
    );
    const store = new TableJobStore(table, undefined, undefined, 300);

    const started = Date.now();
    const error = await store.get('00000000-0000-0000-0000-000000000000').catch((caught: unknown) => caught);
    await proxy.cut();

    expect(error).toMatchObject({ code: 'StoreUnavailable' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  describe('when storage becomes unreachable', () => {
    let proxy: TcpProxy;
    let host: LocalHost;
    const errors: string[] = [];

    beforeEach(async () => {
      const tablePort = Number(new URL(azurite.tableEndpoint).port);
      proxy = new TcpProxy('127.0.0.1', tablePort);
      await proxy.start();
      const viaProxy = azurite.connectionString.replace(`:${tablePort}/`, `:${proxy.port}/`);
      const logger = createLogger('warn', { write: (line) => errors.push(line) });
      host = await startLocalHost({
        env: {
          ...tableSettings(viaProxy),
          Jobs__Storage__JobsTable: `Outage${Date.now()}`,
          Jobs__Retry__BaseDelayMs: '1000',
          Jobs__Retry__MaxDelayMs: '1000',
          Jobs__Retry__Jitter: '0',
          Jobs__InMemory__MaxDeliveryCount: '100',
        },
        port: 0,
        overrides: { logger },
      });
    });

    afterEach(async () => {
      await host.close();
      await proxy.cut();
    });

    it('then a submission answers 503 with Retry-After and leaves no job behind', async () => {
      await proxy.cut();

      const response = await postJobs(
        host.url,
        { jobType: 'diagnostics.simulate', payload: {} },
        { 'idempotency-key': 'outage-1' },
      );
      await proxy.restore();

      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('5');
      expect(host.runtime.embeddedQueue?.messageCount().active).toBe(0);
    });

    it('then a due job holds its message through the outage, spends no delivery, and runs once when storage returns', async () => {
      const { record } = await host.runtime.submission.submit({
        jobType: 'diagnostics.simulate',
        payload: { failTimes: 1 },
      });
      await storedRecordWhen(host.runtime.store, record.jobId, (current) => current.status === 'Retrying');
      await proxy.cut();

      await waitFor(
        () =>
          errors.some((line) => line.includes('holding the message and trying again')) ? true : undefined,
        { timeoutMs: 10_000 },
      );
      await proxy.restore();
      const settled = await storedRecordWhen(
        host.runtime.store,
        record.jobId,
        (current) => current.status === 'Completed',
      );

      expect(settled.outcomes.map((outcome) => [outcome.attempt, outcome.status])).toEqual([
        [1, 'Failed'],
        [2, 'Completed'],
      ]);
      expect(
        errors.filter((line) => line.includes('Processing failed before the job could be settled')),
      ).toEqual([]);
    });
  });
});
