import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/**
 * `npm run bench:local [-- --jobs 3000]`: the local production stack end to end. Starts `npm run start:servicebus`'s
 * entry point (the bundled emulator, Azurite and the local host, on free ports), submits a mixed load over HTTP and
 * prints jobs/s from the first submission to the last job settled (Completed, DeadLettered or Cancelled).
 *
 * The mix, per 20 jobs: 14 that complete at once, 3 that fail once and complete on their retry, 2 poisoned (dead-
 * lettered at their first attempt), 1 that fails every attempt (dead-lettered after 3). Retries wait as
 * local.settings.json says (1 s, doubling).
 */
const jobCount = Number(/--jobs[= ](\d+)/.exec(process.argv.slice(2).join(' '))?.[1] ?? 3000);
const batchSize = 100;
const settleTimeoutMs = 30 * 60_000;

const mix = [
  ...Array.from({ length: 14 }, () => ({ durationMs: 5 })),
  ...Array.from({ length: 3 }, () => ({ failTimes: 1 })),
  { poison: true },
  { poison: true },
  { failAlways: true },
];

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

async function waitUntil<T>(read: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Gave up waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function main(): Promise<void> {
  const [port, serviceBus, tables, blobs] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const stack = spawn(process.execPath, [join(__dirname, '..', 'tools', 'local-host', 'mainServiceBus.js')], {
    env: {
      ...process.env,
      PORT: String(port),
      SERVICEBUS_EMULATOR_PORT: String(serviceBus),
      AZURITE_TABLE_PORT: String(tables),
      AZURITE_BLOB_PORT: String(blobs),
      Jobs__EnableDiagnostics: 'true',
      Jobs__LogLevel: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}/api`;
  try {
    await waitUntil(async () => ((await fetch(`${base}/health`)).ok ? true : undefined), 60_000, 'the stack');
    console.log(`Local production stack (npm run start:servicebus): ${jobCount} mixed jobs over HTTP`);

    const started = Date.now();
    const jobs = Array.from({ length: jobCount }, (_, index) => ({
      jobType: 'diagnostics.simulate',
      payload: mix[index % mix.length],
    }));
    for (let offset = 0; offset < jobs.length; offset += batchSize * 4) {
      await Promise.all(
        [0, 1, 2, 3].map(async (lane) => {
          const batch = jobs.slice(offset + lane * batchSize, offset + (lane + 1) * batchSize);
          if (batch.length === 0) return;
          const response = await fetch(`${base}/jobs`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(batch),
          });
          if (response.status !== 202) throw new Error(`POST /api/jobs answered ${response.status}`);
        }),
      );
    }
    const submitted = Date.now();

    const byStatus = await waitUntil(
      async () => {
        const stats = (await (await fetch(`${base}/jobstats`)).json()) as {
          byStatus: Record<string, number>;
        };
        const { Completed = 0, DeadLettered = 0, Cancelled = 0 } = stats.byStatus;
        return Completed + DeadLettered + Cancelled >= jobCount ? stats.byStatus : undefined;
      },
      settleTimeoutMs,
      'every job to settle',
    );
    const settled = Date.now();

    console.log(`submitted: ${Math.round(jobCount / ((submitted - started) / 1000))} jobs/s`);
    console.log(
      `end to end: ${(jobCount / ((settled - started) / 1000)).toFixed(1)} jobs/s ` +
        `(${((settled - started) / 1000).toFixed(1)} s; ${JSON.stringify(byStatus)})`,
    );
  } finally {
    stack.kill('SIGTERM');
    await once(stack, 'exit');
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
