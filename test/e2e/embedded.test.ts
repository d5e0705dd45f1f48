import { startLocalHost } from '../../tools/local-host/localHost';
import { embeddedTestSettings } from '../support/embeddedRuntime';
import { describeJobApi } from './jobApiSuite';

describeJobApi('embedded in-memory queue', async () => {
  const host = await startLocalHost({ env: embeddedTestSettings, port: 0 });
  return { baseUrl: host.url, close: () => host.close() };
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
