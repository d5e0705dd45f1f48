import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../tools/local-host/localPorts';

/**
 * `npm run bench:local [-- --jobs 3000]`: the local production stack end to end. Starts `npm run start:servicebus`'s
 * entry point (the bundled emulator, Azurite and the local host, on free ports), submits a mixed load over HTTP and
 * prints jobs/s from the first submission to the last job settled (Completed, DeadLettered or Cancelled, as the jobs'
 * records say), and the CPU the stack spent a job, by process.
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

async function waitUntil<T>(
  read: () => Promise<T | undefined>,
  { timeoutMs, intervalMs, what }: { timeoutMs: number; intervalMs: number; what: string },
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Gave up waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** When the last of the jobs settled, by their records (every page of `GET /api/jobs`), in ms since the epoch. */
async function lastSettledAt(base: string): Promise<{ at: number; jobs: number }> {
  let at = 0;
  let jobs = 0;
  for (let next: string | null = `${base}/jobs?limit=100`; next;) {
    const page = (await (await fetch(next)).json()) as {
      jobs: Array<{ status: string; updatedAt: string }>;
      next: string | null;
    };
    for (const job of page.jobs) at = Math.max(at, Date.parse(job.updatedAt));
    jobs += page.jobs.length;
    next = page.next;
  }
  return { at, jobs };
}

interface ProcessCpu {
  pid: number;
  name: string;
  cpuMs: number;
}

/**
 * CPU time so far of the stack's process and its children (the emulator, Azurite), from /proc: the work a job costs,
 * which other load on the machine does not change as it changes jobs/s. Empty where there is no /proc.
 */
function stackCpu(stackPid: number): ProcessCpu[] {
  const read = (pid: number) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const name = /tools\/([^/]+)\/[^/]+\.js$/.exec(command[1] ?? '')?.[1] ?? String(pid);
      // Fields from the state on: ppid is the 2nd, utime and stime the 12th and 13th, in clock ticks (100 a second).
      return { pid, ppid: Number(fields[1]), name, cpuMs: (Number(fields[11]) + Number(fields[12])) * 10 };
    } catch {
      return undefined;
    }
  };
  const all = readdirOrNone('/proc').flatMap((entry) => (/^\d+$/.test(entry) ? [read(Number(entry))] : []));
  return all.flatMap((proc) =>
    proc && (proc.pid === stackPid || proc.ppid === stackPid)
      ? [{ pid: proc.pid, name: proc.name, cpuMs: proc.cpuMs }]
      : [],
  );
}

function readdirOrNone(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
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
    await waitUntil(async () => ((await fetch(`${base}/health`)).ok ? true : undefined), {
      timeoutMs: 60_000,
      intervalMs: 500,
      what: 'the stack',
    });
    console.log(`Local production stack (npm run start:servicebus): ${jobCount} mixed jobs over HTTP`);

    const cpuBefore = stackCpu(stack.pid!);
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
      // Seldom: a count reads every job's index entry, work for the stack that is not the jobs' own (at 3,000 jobs
      // 27 ms of the app's CPU and 113 of Azurite's a call). The end is read from the records, whatever the interval.
      { timeoutMs: settleTimeoutMs, intervalMs: 2_000, what: 'every job to settle' },
    );
    const cpuAfter = stackCpu(stack.pid!);
    const { at: settled, jobs: listed } = await lastSettledAt(base);
    if (listed !== jobCount) throw new Error(`GET /api/jobs listed ${listed} jobs, not ${jobCount}.`);

    console.log(`submitted: ${Math.round(jobCount / ((submitted - started) / 1000))} jobs/s`);
    console.log(
      `end to end: ${(jobCount / ((settled - started) / 1000)).toFixed(1)} jobs/s ` +
        `(${((settled - started) / 1000).toFixed(1)} s; ${JSON.stringify(byStatus)})`,
    );
    const perJob = cpuAfter.map(({ pid, name, cpuMs }) => {
      const before = cpuBefore.find((proc) => proc.pid === pid)?.cpuMs ?? 0;
      return { name, msPerJob: (cpuMs - before) / jobCount };
    });
    if (perJob.length > 0) {
      const total = perJob.reduce((sum, { msPerJob }) => sum + msPerJob, 0);
      const each = perJob.map(({ name, msPerJob }) => `${name} ${msPerJob.toFixed(2)}`).join(', ');
      console.log(`CPU per job: ${total.toFixed(2)} ms (${each})`);
    }
  } finally {
    stack.kill('SIGTERM');
    await once(stack, 'exit');
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
