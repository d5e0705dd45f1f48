import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { httpAnswerOf, installWorkerStandIn, rpcHttpRequest } from '../tools/package/workerStandIn';

// Run by packageBench.ts in a fresh process, as the Functions worker starts an app: `node packageStart.js <mode> <dir>`.
//   import         <package dir>: times `require` of package.json "main" under the worker stand-in
//   platform       <project dir>: times `require` of the platform packages the app cannot avoid
//   first-request  <package dir>: loads "main", runs the app's start hooks, invokes submitJob once, prints "answered"
// Prints one JSON line.

const platformPackages = ['@azure/functions', '@azure/service-bus', '@azure/functions-extensions-servicebus'];

async function main(mode: string, dir: string): Promise<unknown> {
  const worker = installWorkerStandIn();
  if (mode === 'platform') {
    const started = performance.now();
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded as the worker loads modules
    for (const name of platformPackages) require(require.resolve(name, { paths: [dir] }));
    return { ms: performance.now() - started };
  }
  const { main: entry } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { main: string };
  const started = performance.now();
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded as the worker loads "main"
  require(join(dir, entry));
  const loadedMs = performance.now() - started;
  if (mode === 'import') return { ms: loadedMs };
  await worker.runHooks('appStart');
  const invocation = await worker.invoke(
    'submitJob',
    rpcHttpRequest('POST', 'https://bench.azurewebsites.net/api/jobs', {
      body: { jobType: 'diagnostics.simulate', payload: {} },
    }),
  );
  const { status } = httpAnswerOf(invocation);
  if (status !== 202) throw new Error(`submitJob answered ${status}`);
  return { answered: true, loadedMs };
}

const [mode = 'import', dir = process.cwd()] = process.argv.slice(2);
main(mode, dir).then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exit(0);
  },
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
