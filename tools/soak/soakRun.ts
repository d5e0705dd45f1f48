import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { freePort } from '../local-host/localPorts';
import { AppProcess } from './appProcess';
import { awaitSettled } from './awaitSettled';
import { BrokerProbe } from './brokerProbe';
import type { InvariantReport } from './checkInvariants';
import { checkInvariants } from './checkInvariants';
import type { FaultEvent, FaultPlanOptions, FaultSpec } from './faults';
import { cutsOffStorage, planFaults, runFaults } from './faults';
import { formatEndings, formatExamples, formatFaults, formatSummary } from './formatReport';
import { planWorkload } from './planWorkload';
import { readAppEvents } from './readAppEvents';
import { readHandlerCompletions } from './readHandlerCompletions';
import { readRecords } from './readRecords';
import { runWorkload } from './runWorkload';
import { SeededRandom } from './seededRandom';
import { writeJobDump } from './writeJobDump';
import type { SoakServices } from './startSoakServices';
import { startSoakServices } from './startSoakServices';

export type Settlement = 'host' | 'explicit';

export interface SoakOptions {
  settlement: Settlement;
  jobs: number;
  seed: number;
  /** Jobs per second the submissions are spread at (default 40): faults must land while jobs are in flight. */
  rate?: number;
  /** Client requests in flight at most (default 12). */
  concurrency?: number;
  /** A fixed schedule, or (the default) a seeded one over the submission window that ends with the submissions. */
  faults?: readonly FaultSpec[] | 'random';
  faultPlan?: Partial<FaultPlanOptions>;
  /**
   * The reconciler's settings: `soak` (the default) runs it every 5 s on records still for 15 s, so a run ends in
   * minutes; `defaults` leaves the app's production defaults (every minute, 5 minutes' staleness), to see how
   * rarely jobs need it.
   */
  reconciler?: 'soak' | 'defaults';
  /** App instances sharing the queue and the store (default 1); clients spread over them, and a kill hits one. */
  instances?: number;
  /** How long to wait, after the last submission and fault, for everything to settle (default 3 minutes). */
  settleTimeoutMs?: number;
  /** How `node` starts the app; by default the compiled local host next to this file in dist/. */
  appNodeArgs?: readonly string[];
  /** Where the app's logs and `jobs.jsonl` (every job: plan, answers, record, broker) go; a new temporary directory by default. */
  logDir?: string;
  log?: (line: string) => void;
}

export interface SoakResult {
  readonly report: InvariantReport;
  /** One line with every count and the seed. */
  readonly summary: string;
  /** How the jobs of each kind ended. */
  readonly endings: string;
  /** Up to 20 jobs of each class that has any. */
  readonly examples: string;
  readonly faults: readonly FaultEvent[];
  /** Logs of app processes that exited on their own. */
  readonly crashes: readonly string[];
  readonly logDir: string;
  /** True when any class has a job in it, or the app crashed. */
  readonly failed: boolean;
}

const queueName = 'sdap-jobs';
const defaultMaxAttempts = 3;

/**
 * One soak run against one settlement mode: fresh emulator and Azurite behind fault proxies, the app in its own
 * process, a seeded workload of `diagnostics.simulate` jobs submitted over HTTP while seeded faults are injected;
 * then, once the queue has drained, every job is checked against what its clients were told, its payload, its
 * record and the broker (see `checkInvariants`).
 */
export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const log = options.log ?? (() => undefined);
  const root = repoRoot();
  const random = new SeededRandom(options.seed);
  const logDir =
    options.logDir ?? mkdtempSync(join(tmpdir(), `sdap-soak-${options.settlement}-${options.seed}-`));
  const rate = options.rate ?? 40;
  const workload = planWorkload(random.fork('workload'), {
    jobs: options.jobs,
    rate,
    defaultMaxAttempts,
    keyPrefix: `soak-${options.seed}-${options.settlement}`,
  });
  const windowMs = (options.jobs / rate) * 1000;
  const fixedSchedule = Array.isArray(options.faults) ? (options.faults as readonly FaultSpec[]) : undefined;
  const schedule =
    fixedSchedule ??
    planFaults(random.fork('faults'), { windowMs, ...defaultFaultPlan, ...options.faultPlan });

  const services = await startSoakServices({
    emulatorConfig: join(root, 'infra/local/servicebus-emulator.config.json'),
    queueName,
    lockDuration: 'PT5S',
  });
  const probe = new BrokerProbe(services.directServiceBusConnection, queueName);
  // Aborted when no further fault may start: the submissions are done (random schedule), or the run is ending.
  const stopFaults = new AbortController();
  let faultsDone: Promise<unknown> = Promise.resolve();
  const apps: AppProcess[] = [];
  try {
    const instances = options.instances ?? 1;
    for (let instance = 1; instance <= instances; instance += 1) {
      apps.push(
        new AppProcess({
          nodeArgs: options.appNodeArgs ?? [compiledLocalHost()],
          env: appEnvironment(
            services,
            options.settlement,
            options.reconciler ?? 'soak',
            claimGraceFor(schedule),
          ),
          cwd: root,
          logDir,
          logName: instances === 1 ? 'app' : `app${instance}`,
          port: await freePort(),
        }),
      );
    }
    await Promise.all(apps.map((app) => app.start()));
    const app = apps[0] as AppProcess;
    log(
      `${options.settlement}: ${options.jobs} jobs over ~${Math.round(windowMs / 1000)} s, ` +
        `${schedule.length} faults, ${instances} app instance(s), logs in ${logDir}`,
    );

    const startedAt = Date.now();
    const kills = random.fork('kills');
    const targets = {
      storage: services.storageProxy,
      broker: services.brokerProxy,
      apps,
      pickApp: (count: number) => kills.int(0, count - 1),
    };
    const faultRun = runFaults(schedule, targets, { startedAt, signal: stopFaults.signal, log });
    faultsDone = faultRun.catch(() => []);
    const submissions = await runWorkload(
      apps.map((instance) => instance.url),
      workload,
      {
        concurrency: options.concurrency ?? 12,
        random: random.fork('clients'),
        onProgress: progressLog(log),
      },
    ).finally(() => {
      // A random schedule ends with the submissions; a fixed one is carried out whole.
      if (!fixedSchedule) stopFaults.abort();
    });
    const faults = await faultRun;
    log(`faults: ${formatFaults(faults, startedAt) || 'none'}`);

    const jobIds = workload.jobs.map((job) => job.jobId);
    const settled = await awaitSettled(probe, app.url, jobIds, {
      timeoutMs: options.settleTimeoutMs ?? 180_000,
      log,
    });
    const records = await readRecords(app.url, jobIds);
    const broker = await probe.snapshot();
    await Promise.all(apps.map((instance) => instance.stop()));
    await writeJobDump(join(logDir, 'jobs.jsonl'), submissions, records, broker);
    const report = checkInvariants({
      settlement: options.settlement,
      submissions,
      records,
      broker,
      completions: await readHandlerCompletions(apps.flatMap((instance) => instance.logFiles)),
      killedAt: faults.filter((fault) => fault.kind === 'killApp').map((fault) => fault.startedAt),
      faults,
      appEvents: await readAppEvents(apps.flatMap((instance) => instance.logFiles)),
      now: Date.now(),
    });
    const { settlement, seed } = options;
    const crashes = apps.flatMap((instance) => instance.crashes);
    const run = { settlement, seed, faults, settled, crashes, logDir, elapsedMs: Date.now() - startedAt };
    return {
      report,
      summary: formatSummary(report, run),
      endings: formatEndings(report),
      examples: formatExamples(report),
      faults,
      crashes,
      logDir,
      failed: crashes.length > 0 || Object.values(report.counts).some((count) => count > 0),
    };
  } finally {
    stopFaults.abort();
    await faultsDone;
    await Promise.all(apps.map((instance) => instance.kill()));
    await probe.close();
    await services.close();
  }
}

// Outages mostly of a few seconds, some longer than a message's deliveries last (10 within a few seconds).
const defaultFaultPlan = {
  meanGapMs: 8_000,
  minDurationMs: 1_000,
  maxDurationMs: 5_000,
  maxLongDurationMs: 20_000,
  longShare: 0.15,
  brokerOutageMs: 60_000,
};

/** A progress line every 15 s at most, and one at the end. */
function progressLog(log: (line: string) => void): (done: number, total: number) => void {
  let last = 0;
  return (done, total) => {
    if (Date.now() - last < 15_000 && done < total) return;
    last = Date.now();
    log(`submitted ${done}/${total} requests`);
  };
}

/**
 * The app's whole environment: nothing inherited but what a process needs to run, so neither the caller's settings
 * nor `local.settings.json`'s can change what is tested. Retries and claims are shortened so a run ends in minutes.
 */
function appEnvironment(
  services: SoakServices,
  settlement: Settlement,
  reconciler: 'soak' | 'defaults',
  claimGraceMs: number,
): Record<string, string> {
  const inherited = Object.fromEntries(
    ['PATH', 'HOME', 'TMPDIR'].flatMap((name) =>
      process.env[name] ? [[name, process.env[name] as string]] : [],
    ),
  );
  return {
    ...inherited,
    Jobs__UseServiceBus: 'true',
    ServiceBusConnection: services.appServiceBusConnection,
    Jobs__ServiceBus__QueueName: queueName,
    Jobs__ServiceBus__Settlement: settlement,
    Jobs__Store: 'table',
    JobsStorage: services.appStorageConnection,
    AzureWebJobsStorage: services.appStorageConnection,
    Jobs__EnableDiagnostics: 'true',
    Jobs__DefaultMaxAttempts: String(defaultMaxAttempts),
    Jobs__Retry__BaseDelayMs: '200',
    Jobs__Retry__MaxDelayMs: '2000',
    Jobs__HandlerTimeoutMs: '5000',
    Jobs__ClaimGraceMs: String(claimGraceMs),
    // The repair sweep, where the app has one: often, and for records still for a few seconds. (The app reads only
    // the settings it knows, so these are harmless to a version without it.)
    ...(reconciler === 'soak'
      ? { Jobs__Reconciler__StaleAfterMs: '15000', Jobs__Reconciler__IntervalMs: '5000' }
      : {}),
    Jobs__ShutdownTimeoutMs: '10000',
    Jobs__LogLevel: 'info',
  };
}

/**
 * A claim that outlasts the schedule's longest storage outage and the recovery after it. A finished run's result
 * waits an outage out; should the run's claim expire meanwhile, a redelivery runs the job again, a window the app
 * does not close (docs/retries-and-dead-letters.md, "The remaining window"): production's claim, the handler
 * timeout (240 s) plus 10 s, outlasts the dispatcher's outage tolerance. 1 s without storage faults, so that a
 * killed run's job moves on soon.
 */
function claimGraceFor(schedule: readonly FaultSpec[]): number {
  const storageOutages = schedule.filter((fault) => cutsOffStorage(fault.kind));
  return Math.max(1_000, ...storageOutages.map((fault) => fault.durationMs + 10_000));
}

/** The directory with the project's package.json, from this file in tools/soak or in dist/tools/soak. */
function repoRoot(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'sdap-jobs'
    ) {
      return dir;
    }
  }
  throw new Error(`No sdap-jobs package.json above ${__dirname}`);
}

function compiledLocalHost(): string {
  const entry = resolve(__dirname, '../local-host/main.js');
  if (!existsSync(entry)) throw new Error(`${entry} not found: run 'npm run build', or pass appNodeArgs`);
  return entry;
}
