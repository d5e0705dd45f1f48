import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { filesBelow } from './filesBelow';

// Run by verifyPackage.ts as `node loadPackagedApp.js <package dir>`, with the package directory as working
// directory: everything is loaded from the package (its own node_modules), nothing from the project. It loads what
// the Functions host loads (package.json "main"), then every module the app can load later: each compiled file of
// the app, each package the app's code names, and Application Insights the way the app starts it. Prints one JSON
// line; exit code 0 when everything loaded.

interface PackageJson {
  main: string;
}

interface TelemetryLike {
  readonly loaded: boolean;
  close(): Promise<void>;
}

/** What the app's Telemetry classes need of a logger; errors are collected, the rest dropped. */
function collectingLogger(errors: string[]) {
  const logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: (message: string, fields?: unknown) => errors.push(`${message} ${JSON.stringify(fields ?? {})}`),
    child: () => logger,
  };
  return logger;
}

/**
 * Packages the compiled app names in `require("…")` (TypeScript compiles `import()` to that too); a name built at
 * run time (a template with `${…}`) is not one.
 */
function packagesNamedIn(files: readonly string[]): string[] {
  const names = new Set<string>();
  for (const file of files) {
    for (const match of readFileSync(file, 'utf8').matchAll(/require\((["'`])([^"'`./$][^"'`$]*)\1\)/g)) {
      const specifier = match[2]!;
      if (specifier.startsWith('node:')) continue;
      names.add(specifier);
    }
  }
  return [...names].sort();
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

async function main(packageDir: string): Promise<void> {
  const fromPackage = createRequire(join(packageDir, 'package.json'));
  const { main: entry } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as PackageJson;
  // The Functions host reads "main" as a glob; this project's is one file.
  if (/[*{]/.test(entry))
    throw new Error(`package.json "main" is a pattern (${entry}); name the entry file.`);

  // The settings production has (infra/app/api.bicep), as the app itself states them; nothing connects at start-up.
  const { managedIdentityProductionSettings } = fromPackage(join(packageDir, 'dist', 'src', 'config.js')) as {
    managedIdentityProductionSettings(deployment: Record<string, string>): Record<string, string>;
  };
  Object.assign(process.env, {
    ...managedIdentityProductionSettings({
      serviceBusNamespace: 'sb-package-check.servicebus.windows.net',
      storageAccountName: 'stpackagecheck',
      identityClientId: '00000000-0000-0000-0000-000000000001',
    }),
    Jobs__LogLevel: 'silent',
  });

  fromPackage(join(packageDir, entry));
  const appDir = join(packageDir, 'dist', 'src');
  const appFiles = filesBelow(appDir, '')
    .filter((path) => path.endsWith('.js'))
    .map((path) => join(appDir, path));
  for (const file of appFiles) fromPackage(file);
  const packages = packagesNamedIn(appFiles);
  for (const name of packages) fromPackage(name);

  // Application Insights loads most of its (OpenTelemetry) modules only when it starts: start it, send nowhere.
  const errors: string[] = [];
  const { ApplicationInsightsTelemetry } = fromPackage(
    join(packageDir, 'dist', 'src', 'telemetry', 'applicationInsightsTelemetry.js'),
  ) as {
    ApplicationInsightsTelemetry: new (options: Record<string, unknown>) => TelemetryLike;
  };
  const telemetry = new ApplicationInsightsTelemetry({
    connectionString:
      'InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:9/',
    logger: collectingLogger(errors),
    startupIdleMs: 0,
    idleMs: 0,
    maxDeferMs: 0,
  });
  const started = await waitFor(() => telemetry.loaded || errors.length > 0, 60_000);
  await telemetry.close();
  if (!started || !telemetry.loaded) {
    throw new Error(
      `Application Insights did not start from the package: ${errors.join('; ') || 'timed out'}`,
    );
  }
  console.log(
    JSON.stringify({ entry, appModules: appFiles.length, packages, applicationInsights: 'started' }),
  );
}

main(process.argv[2] ?? process.cwd()).then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  },
);
