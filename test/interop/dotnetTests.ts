import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { repositoryRoot, runDotnet } from '../../tools/dotnet/dotnetTools';

const PROJECT = join('interop', 'dotnet', 'SdapJobs.Interop.Tests.csproj');
/** Held while one jest worker builds: two MSBuild runs in one obj/ folder trip over each other's files. */
const BUILD_LOCK = join(repositoryRoot, 'interop', 'dotnet', 'obj', 'jest-build.lock');

/** One xunit test's result, from the TRX file `dotnet test` wrote. */
export interface DotnetTestResult {
  readonly name: string;
  readonly outcome: string;
  /** The failure's message and stack, when it failed. */
  readonly error?: string;
}

let built: Promise<unknown> | undefined;

/** Restores and builds the interop project, once per test file, one worker at a time. */
export function buildDotnetTests(): Promise<unknown> {
  built ??= whileLocked(BUILD_LOCK, () => runDotnet(['build', PROJECT, '--nologo', '--verbosity', 'quiet']));
  return built;
}

/** Runs `work` while holding a lock file that names this process; a lock whose process is gone is taken over. */
async function whileLocked<T>(path: string, work: () => Promise<T>): Promise<T> {
  mkdirSync(dirname(path), { recursive: true });
  for (;;) {
    try {
      const lock = openSync(path, 'wx');
      writeSync(lock, String(process.pid));
      closeSync(lock);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // Empty for the moment between its holder's create and write; gone when its holder just let go.
      const holder = readIfThere(path);
      if (holder && !isRunning(Number(holder))) rmSync(path, { force: true });
      else if (holder !== undefined) await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    return await work();
  } finally {
    rmSync(path, { force: true });
  }
}

function readIfThere(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function isRunning(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs the xunit tests of the given classes (`SdapJobs.Interop.<testClass>`) with the given SDAP_INTEROP_*
 * settings and returns each test's result. A failing test does not reject: the caller asserts on the results, so that jest
 * prints which C# test failed and why.
 */
export async function runDotnetTests(
  testClasses: readonly string[],
  env: Record<string, string>,
  timeoutMs = 240_000,
): Promise<DotnetTestResult[]> {
  await buildDotnetTests();
  const directory = mkdtempSync(join(tmpdir(), 'dotnet-interop-'));
  try {
    const outcome = await runDotnet(
      [
        'test',
        PROJECT,
        '--no-build',
        '--nologo',
        '--filter',
        testClasses.map((testClass) => `FullyQualifiedName~SdapJobs.Interop.${testClass}.`).join('|'),
        '--logger',
        'trx;LogFileName=results.trx',
        '--results-directory',
        directory,
      ],
      { env, timeoutMs },
    ).catch((error: unknown) => error);
    const results = readTrx(join(directory, 'results.trx'));
    if (results.length === 0) throw new Error(`no test of ${testClasses.join(', ')} ran: ${String(outcome)}`);
    return results;
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

/** The results of one class's tests that are not `Passed`, each with its error, for a `toEqual([])` that names them. */
export function failuresOf(results: readonly DotnetTestResult[], testClass: string): string[] {
  const ofClass = results.filter((result) => result.name.startsWith(`SdapJobs.Interop.${testClass}.`));
  if (ofClass.length === 0) return [`no test of ${testClass} ran`];
  return ofClass
    .filter((result) => result.outcome !== 'Passed')
    .map(({ name, error }) => `${name}: ${error ?? ''}`);
}

function readTrx(path: string): DotnetTestResult[] {
  let trx: string;
  try {
    trx = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const results: DotnetTestResult[] = [];
  for (const match of trx.matchAll(/<UnitTestResult\b([^>]*?)(?:\/>|>([\s\S]*?)<\/UnitTestResult>)/g)) {
    const attributes = match[1] ?? '';
    const name = /testName="([^"]*)"/.exec(attributes)?.[1] ?? '?';
    const outcome = /outcome="([^"]*)"/.exec(attributes)?.[1] ?? '?';
    const message = /<Message>([\s\S]*?)<\/Message>/.exec(match[2] ?? '')?.[1];
    const stack = /<StackTrace>([\s\S]*?)<\/StackTrace>/.exec(match[2] ?? '')?.[1];
    results.push({
      name: unescapeXml(name),
      outcome,
      ...(message || stack ? { error: unescapeXml(`${message ?? ''}\n${stack ?? ''}`) } : {}),
    });
  }
  return results;
}

const unescapeXml = (text: string) =>
  text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&amp;/g, '&');
