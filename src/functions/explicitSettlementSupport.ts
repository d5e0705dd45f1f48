import { ConfigurationError } from '../jobs/errors';

const extensionPackage = '@azure/functions-extensions-servicebus';
const firstUsableVersion = [0, 4, 0] as const;

/**
 * Versions before 0.4.0 cannot dead-letter with a reason (upstream issue Azure/azure-functions-nodejs-extensions#28,
 * fixed in 0.4.0) and mis-decode the host's messages, so `explicit` settlement is refused inside the Functions host
 * until a usable version is installed; infra/README.md ("Explicit settlement") has the switch. Returns the installed
 * version.
 */
export function assertExplicitSettlementSupported(
  readVersion: () => string = installedExtensionVersion,
): string {
  const version = readVersion();
  if (compareVersions(version, firstUsableVersion) < 0) {
    throw new ConfigurationError(
      `Jobs__ServiceBus__Settlement=explicit needs ${extensionPackage} >= ${firstUsableVersion.join('.')}, ` +
        `but ${version} is installed (it cannot dead-letter with a reason). ` +
        `Set Jobs__ServiceBus__Settlement=host, or upgrade the package.`,
    );
  }
  return version;
}

function installedExtensionVersion(): string {
  // A literal, so that the bundled deployment package holds the version it was built with.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('@azure/functions-extensions-servicebus/package.json') as { version: string }).version;
}

function compareVersions(version: string, minimum: readonly number[]): number {
  const parts = version.split(/[.-]/).slice(0, 3).map(Number);
  for (let index = 0; index < minimum.length; index += 1) {
    const difference = (parts[index] ?? 0) - (minimum[index] ?? 0);
    if (difference !== 0) return difference;
  }
  // 0.4.0-preview is older than 0.4.0.
  return version.includes('-') ? -1 : 0;
}
