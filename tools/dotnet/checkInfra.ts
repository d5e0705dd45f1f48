import { allowedBicepWarnings, checkInfra, formatDiagnostic } from './bicepCheck';
import { hasDotnet } from './dotnetTools';

/**
 * `npm run infra:check`: the pinned Bicep CLI builds infra/main.bicep and lints every .bicep file under infra/. Fails
 * on any error, on any warning not allowed (with its reason) in bicepCheck.ts and infra/README.md, and on any output
 * it cannot read.
 */
async function main(): Promise<number> {
  if (!hasDotnet()) {
    console.error(
      'infra:check needs `dotnet` on PATH (the .NET 10 SDK): the pinned Bicep CLI is restored from NuGet.',
    );
    return 1;
  }
  const { diagnostics, failures, unreadOutput } = await checkInfra();
  for (const diagnostic of diagnostics) {
    const allowed = allowedBicepWarnings.find(
      (entry) => entry.file === diagnostic.file && entry.code === diagnostic.code,
    );
    const note = failures.includes(diagnostic) ? '' : ` (allowed: ${allowed?.reason ?? 'informational'})`;
    console.log(`${formatDiagnostic(diagnostic)}${note}`);
  }
  for (const line of unreadOutput) console.log(`unread output: ${line}`);
  const failed = failures.length + unreadOutput.length;
  console.log(
    failed === 0
      ? `infra: bicep build and bicep lint passed (${diagnostics.length} allowed finding(s))`
      : `infra: ${failures.length} finding(s) and ${unreadOutput.length} unread line(s) fail the check`,
  );
  return failed === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
