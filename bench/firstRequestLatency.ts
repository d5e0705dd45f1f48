import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

/**
 * Telemetry on, pointed where nothing listens: what is measured is the cost of having it on, not of exporting (the
 * SDK exports in the background, after the measured work).
 */
export const unreachableTelemetryConnectionString =
  'InstrumentationKey=11111111-2222-3333-4444-555555555555;IngestionEndpoint=https://127.0.0.1:9/';

export interface FirstRequestSample {
  /** Process spawned → first response received: the cold start a caller waits through. */
  readonly coldStartMs: number;
  /** Request sent → response received, for the first request of the process. */
  readonly firstRequestMs: number;
}

/**
 * One cold process (`npm start`'s compiled entry, embedded mode) and its first `POST /api/jobs`, with telemetry on
 * (`APPLICATIONINSIGHTS_CONNECTION_STRING` set) or off.
 */
export async function measureFirstRequest(telemetry: boolean): Promise<FirstRequestSample> {
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, [resolve(__dirname, '..', 'tools', 'local-host', 'main.js')], {
    cwd: resolve(__dirname, '..', '..'),
    env: {
      ...process.env,
      Jobs__UseServiceBus: 'false',
      Jobs__EnableDiagnostics: 'true',
      Jobs__LogLevel: 'info',
      PORT: '0',
      ...(telemetry ? { APPLICATIONINSIGHTS_CONNECTION_STRING: unreachableTelemetryConnectionString } : {}),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const url = await new Promise<string>((resolveUrl, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        const match = /"message":"Local host listening".*?"url":"([^"]+)"/.exec(line);
        if (match?.[1]) resolveUrl(match[1]);
      });
      child.once('exit', (code) => reject(new Error(`local host exited with ${code}`)));
    });
    const sentAt = performance.now();
    const response = await fetch(`${url}/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jobType: 'diagnostics.simulate', payload: {} }),
    });
    await response.arrayBuffer();
    const receivedAt = performance.now();
    if (response.status !== 202) throw new Error(`first request answered ${response.status}`);
    return { coldStartMs: receivedAt - spawnedAt, firstRequestMs: receivedAt - sentAt };
  } finally {
    child.kill('SIGKILL');
  }
}
