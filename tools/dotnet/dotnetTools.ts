import { execFile, spawnSync } from 'node:child_process';
import { accessSync, chmodSync, constants } from 'node:fs';
import { join, resolve } from 'node:path';

/** The repository's root, from `dist/tools/dotnet` (compiled) or `tools/dotnet` (under ts-jest). */
export const repositoryRoot = resolve(
  __dirname,
  __dirname.includes(`${join('dist', 'tools')}`) ? '../../..' : '../..',
);

const BICEP_PACKAGE = 'azure.bicep.commandline.linux-x64';
/** Kept equal to the version `Bicep.csproj` downloads. */
const BICEP_VERSION = '0.49.2';

/** Whether the .NET SDK is on PATH. */
export function hasDotnet(): boolean {
  return spawnSync('dotnet', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Runs `dotnet` with arguments in the repository's root; fails with its output when it exits with an error. */
export function runDotnet(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ stdout: string; stderr: string }> {
  return runProgram('dotnet', args, options);
}

/** Runs a program; the promise rejects with its whole output when it exits with an error. */
export function runProgram(
  program: string,
  args: readonly string[],
  { env, timeoutMs = 600_000 }: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      program,
      [...args],
      {
        cwd: repositoryRoot,
        env: { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: '1', DOTNET_NOLOGO: '1', ...env },
        timeout: timeoutMs,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`${program} ${args.join(' ')} failed: ${error.message}\n${stdout}\n${stderr}`));
        } else {
          resolvePromise({ stdout, stderr });
        }
      },
    );
  });
}

/**
 * The pinned Bicep CLI: restores `tools/dotnet/Bicep.csproj` (a no-op once the package is there) and returns the
 * binary's path in NuGet's global packages folder.
 */
export async function restoreBicep(): Promise<string> {
  await runDotnet(['restore', join('tools', 'dotnet', 'Bicep.csproj'), '--verbosity', 'quiet']);
  const { stdout } = await runDotnet(['nuget', 'locals', 'global-packages', '--list']);
  const packages = stdout.replace(/^.*global-packages:\s*/s, '').trim();
  const bicep = join(packages, BICEP_PACKAGE, BICEP_VERSION, 'tools', 'bicep');
  try {
    accessSync(bicep, constants.X_OK);
  } catch {
    // NuGet extracts with the package's modes, which some feeds leave without the execute bit.
    chmodSync(bicep, 0o755);
  }
  return bicep;
}
