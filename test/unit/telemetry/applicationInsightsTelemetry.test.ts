import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../../../src/jobs/support/logger';
import { ApplicationInsightsTelemetry } from '../../../src/telemetry/applicationInsightsTelemetry';
import { waitFor } from '../../support/waitFor';

// These tests are about when the SDK loads, not what it sends (that is test/e2e/telemetry.test.ts): the endpoint
// is a plain HTTP server, so every export fails at once, for good, with no retries to wait through.
let connectionString = '';
const refusingEndpoint = createServer((_, res) => res.end());
beforeAll(async () => {
  refusingEndpoint.listen(0, '127.0.0.1');
  await once(refusingEndpoint, 'listening');
  const { port } = refusingEndpoint.address() as AddressInfo;
  connectionString = `InstrumentationKey=11111111-2222-3333-4444-555555555555;IngestionEndpoint=https://127.0.0.1:${port}/`;
});
afterAll(() => refusingEndpoint.close());

// As on Functions, where the SDK skips probing for Azure VM metadata (a request that outlives these tests).
process.env.WEBSITE_SITE_NAME = 'sdap-jobs-test';
process.env.FUNCTIONS_WORKER_RUNTIME = 'node';

function telemetryWith(timing: { startupIdleMs: number; idleMs: number; maxDeferMs: number }) {
  return new ApplicationInsightsTelemetry({
    connectionString,
    logger: createLogger('silent'),
    ...timing,
  });
}

async function loadedAfterRealTime(telemetry: ApplicationInsightsTelemetry): Promise<void> {
  jest.useRealTimers();
  await waitFor(() => telemetry.loaded || undefined, { timeoutMs: 20_000, description: 'the SDK to load' });
  await telemetry.close();
}

describe('Application Insights loading, kept off the invocations', () => {
  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
  });

  afterEach(() => jest.useRealTimers());

  it('waits for a running invocation to end and a pause to follow before it loads the SDK', async () => {
    const telemetry = telemetryWith({ startupIdleMs: 1_000, idleMs: 100, maxDeferMs: 60_000 });
    let finish: () => void = () => undefined;
    const invocation = telemetry.trackActivity(() => new Promise<void>((resolve) => (finish = resolve)));
    telemetry.trackMetric('TrackedBeforeLoading', 1, { jobType: 'x' });

    await jest.advanceTimersByTimeAsync(5_000);
    expect(telemetry.loaded).toBe(false);
    finish();
    await invocation;
    await jest.advanceTimersByTimeAsync(99);
    expect(telemetry.loaded).toBe(false);

    await jest.advanceTimersByTimeAsync(1);
    await loadedAfterRealTime(telemetry);
  });

  it('loads at the deadline when invocations never pause', async () => {
    const telemetry = telemetryWith({ startupIdleMs: 100, idleMs: 100, maxDeferMs: 10_000 });
    void telemetry.trackActivity(() => new Promise<void>(() => undefined));

    await jest.advanceTimersByTimeAsync(9_999);
    expect(telemetry.loaded).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    await loadedAfterRealTime(telemetry);
  });

  it('loads after the start-up wait when no invocation comes, and at once when closed with items to send', async () => {
    const idle = telemetryWith({ startupIdleMs: 1_000, idleMs: 100, maxDeferMs: 60_000 });
    await jest.advanceTimersByTimeAsync(999);
    expect(idle.loaded).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    await loadedAfterRealTime(idle);

    const closed = telemetryWith({ startupIdleMs: 60_000, idleMs: 60_000, maxDeferMs: 60_000 });
    closed.trackEvent({ name: 'Tracked', trace: undefined, properties: {} });
    expect(closed.loaded).toBe(false);
    await closed.close();
    expect(closed.loaded).toBe(true);
  });

  it('closes without loading the SDK when nothing was tracked', async () => {
    const unused = telemetryWith({ startupIdleMs: 100, idleMs: 100, maxDeferMs: 1_000 });
    await unused.close();
    await jest.advanceTimersByTimeAsync(10_000);
    expect(unused.loaded).toBe(false);
  });
});
