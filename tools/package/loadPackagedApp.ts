import { readFileSync } from 'node:fs';
import type * as ServiceBus from '@azure/service-bus';
import { join, relative } from 'node:path';
import type { RpcTypedData, WorkerStandIn } from './workerStandIn';
import { httpAnswerOf, installWorkerStandIn, rpcHttpRequest } from './workerStandIn';

// Run by verifyPackage.ts as `node loadPackagedApp.js <package dir> <scenario>`, with the package directory as working
// directory and the scenario's app settings as environment: loads the package the way the Functions worker does
// (`@azure/functions-core` answered, package.json "main" required, app hooks run) and drives it through the functions
// it registered, with the inputs the host sends. Nothing of the app is loaded from the project. Prints one JSON line;
// exit code 0 when the scenario ran to its end.

export type Scenario = 'production' | 'embedded' | 'serviceBus' | 'explicit' | 'storage' | 'identity';

export interface Registration {
  readonly name: string;
  readonly trigger: string;
  readonly options: Readonly<Record<string, unknown>>;
}

export interface ScenarioReport {
  readonly scenario: Scenario;
  readonly entry: string;
  readonly programmingModel?: string;
  readonly registrations: readonly Registration[];
  /** Package files in Node's module cache after the entry loaded, relative to the package. */
  readonly loadedAtStartUp: readonly string[];
  readonly loadMs: number;
  /** Set when loading the entry threw (the worker would report it as the app's start-up error). */
  readonly loadError?: string;
  /** A job run through the registered functions: its final record's status and attempts. */
  readonly job?: { readonly jobId: string; readonly status: string; readonly attempt: number };
  /** HTTP answers that the scenario checked, by what was asked. */
  readonly answers?: Readonly<Record<string, number>>;
  /** Whether Application Insights started from its own file once the app was idle, and what that file is. */
  readonly applicationInsights?: { readonly started: boolean; readonly file: string };
  /** Package files in Node's module cache when the scenario ended. */
  readonly loadedAtEnd?: readonly string[];
}

interface PackageJson {
  main: string;
}

const host = 'https://package-check.azurewebsites.net';
const telemetryChunkName = 'applicationInsights.js';
const timeoutMs = 30_000;

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The app's own log lines on stdout (JSON lines), kept so that a scenario can wait for one. */
function captureStdout(): string[] {
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write;
  return lines;
}

function registrationsOf(worker: WorkerStandIn): Registration[] {
  return [...worker.functions.values()].map(({ name, bindings }) => {
    const [, trigger] = Object.entries(bindings).find(([, binding]) => /Trigger$/i.test(binding.type))!;
    const options: Record<string, unknown> = { ...trigger };
    delete options.type;
    delete options.direction;
    return { name, trigger: trigger.type, options };
  });
}

async function http(
  worker: WorkerStandIn,
  name: string,
  method: string,
  path: string,
  options: Parameters<typeof rpcHttpRequest>[2] = {},
) {
  return httpAnswerOf(await worker.invoke(name, rpcHttpRequest(method, `${host}/api/${path}`, options)));
}

async function submitAndAwait(
  worker: WorkerStandIn,
  afterSubmit: () => Promise<void> = async () => undefined,
  body: unknown = { jobType: 'diagnostics.simulate', payload: { durationMs: 10 } },
) {
  const submitted = await http(worker, 'submitJob', 'POST', 'jobs', { body });
  if (submitted.status !== 202) throw new Error(`submitJob answered ${submitted.status}: ${submitted.body}`);
  const { jobId } = JSON.parse(submitted.body) as { jobId: string };
  await afterSubmit();
  return waitFor('the job to complete', async () => {
    const answer = await http(worker, 'getJob', 'GET', `jobs/${jobId}`, { params: { jobId } });
    const record = JSON.parse(answer.body) as { status: string; attempt: number };
    return record.status === 'Completed'
      ? { jobId, status: record.status, attempt: record.attempt }
      : undefined;
  });
}

/**
 * The Service Bus trigger's side of the host for one message: receive it in peek-lock from the queue the app sent
 * to, invoke processJob with the body and metadata the host sends (GA binding, `host` settlement), then complete it
 * (the function returned) or abandon it (it threw).
 */
async function deliverOneMessage(worker: WorkerStandIn): Promise<void> {
  // The harness's own client, from the project: the app's copy is inside the bundle.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { ServiceBusClient } = require('@azure/service-bus') as typeof ServiceBus;
  const client = new ServiceBusClient(process.env.ServiceBusConnection!);
  const receiver = client.createReceiver(process.env.Jobs__ServiceBus__QueueName!, {
    skipParsingBodyAsJson: true,
  });
  try {
    const [message] = await waitFor('the job message on the queue', async () => {
      const received = await receiver.receiveMessages(1, { maxWaitTimeInMs: 1000 });
      return received.length > 0 ? received : undefined;
    });
    const body = Buffer.isBuffer(message!.body)
      ? message!.body.toString('utf8')
      : JSON.stringify(message!.body);
    const text = (value: unknown): RpcTypedData => ({ string: String(value) });
    const json = (value: unknown): RpcTypedData => ({ json: JSON.stringify(value) });
    const metadata: Record<string, RpcTypedData> = {
      MessageId: text(message!.messageId),
      // The host counts as .NET does: 1 on the first delivery.
      DeliveryCount: json((message!.deliveryCount ?? 0) + 1),
      EnqueuedTimeUtc: json(message!.enqueuedTimeUtc?.toISOString()),
      LockToken: text(message!.lockToken),
      SequenceNumber: json(Number(message!.sequenceNumber)),
      ContentType: text(message!.contentType ?? ''),
      CorrelationId: text(message!.correlationId ?? ''),
      Subject: text(message!.subject ?? ''),
      ApplicationProperties: json(message!.applicationProperties ?? {}),
      UserProperties: json(message!.applicationProperties ?? {}),
    };
    try {
      await worker.invoke('processJob', { string: body }, metadata);
    } catch (error) {
      await receiver.abandonMessage(message!);
      throw error;
    }
    await receiver.completeMessage(message!);
  } finally {
    await receiver.close();
    await client.close();
  }
}

async function run(packageDir: string, scenario: Scenario): Promise<ScenarioReport> {
  const stdout = captureStdout();
  const worker = installWorkerStandIn();
  const { main: entry } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as PackageJson;
  // The worker reads "main" as a glob; this project's is one file.
  if (/[*{]/.test(entry))
    throw new Error(`package.json "main" is a pattern (${entry}); name the entry file.`);
  const packageFiles = () =>
    Object.keys(require.cache)
      .filter((file) => !relative(packageDir, file).startsWith('..'))
      .map((file) => relative(packageDir, file).split('\\').join('/'))
      .sort();

  const started = performance.now();
  let loadError: string | undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded as the worker loads "main"
    require(join(packageDir, entry));
  } catch (error) {
    loadError = error instanceof Error ? error.message : String(error);
  }
  const base = {
    scenario,
    entry,
    programmingModel:
      worker.programmingModel() && `${worker.programmingModel()!.name}@${worker.programmingModel()!.version}`,
    registrations: registrationsOf(worker),
    loadedAtStartUp: packageFiles(),
    loadMs: Math.round(performance.now() - started),
    ...(loadError ? { loadError } : {}),
  };
  if (loadError || scenario === 'production' || scenario === 'explicit') return base;

  await worker.runHooks('appStart');
  try {
    if (scenario === 'storage') {
      // The table store and the document store (Azure Storage SDKs, from their own file of the bundle).
      const job = await submitAndAwait(worker, undefined, {
        jobType: 'document.delete',
        payload: { container: 'documents', documentId: 'package-check' },
      });
      return { ...base, job, loadedAtEnd: packageFiles() };
    }
    if (scenario === 'identity') {
      // The first store call asks the managed identity for a token (the identity SDK, from its own file).
      const jobId = '00000000-0000-4000-8000-000000000001';
      const answer = await http(worker, 'getJob', 'GET', `jobs/${jobId}`, { params: { jobId } });
      return { ...base, answers: { 'GET jobs/{jobId}': answer.status }, loadedAtEnd: packageFiles() };
    }
    if (scenario === 'serviceBus') {
      const job = await submitAndAwait(worker, () => deliverOneMessage(worker));
      return { ...base, job };
    }
    const answers: Record<string, number> = {};
    answers['GET health'] = (await http(worker, 'health', 'GET', 'health')).status;
    const job = await submitAndAwait(worker);
    answers['GET dashboard'] = (await http(worker, 'dashboard', 'GET', 'dashboard')).status;
    answers['GET dashboard/dashboard.js'] = (
      await http(worker, 'dashboardAsset', 'GET', 'dashboard/dashboard.js', {
        params: { asset: 'dashboard.js' },
      })
    ).status;
    // Application Insights loads when the app has been idle a while after start-up (src/telemetry).
    const started = await waitFor('Application Insights to start or fail', () => {
      if (stdout.some((line) => line.includes('Application Insights could not be started'))) return false;
      return stdout.some((line) => line.includes('Application Insights started')) || undefined;
    });
    const file = packageFiles().find((path) => path.endsWith(`/${telemetryChunkName}`)) ?? 'not loaded';
    return { ...base, job, answers, applicationInsights: { started, file } };
  } finally {
    await worker.runHooks('appTerminate');
  }
}

const [packageDir = process.cwd(), scenario = 'production'] = process.argv.slice(2);
run(packageDir, scenario as Scenario).then(
  (report) => {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    process.exit(0);
  },
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
