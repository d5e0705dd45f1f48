import { azuriteConnectionString, azuriteEndpoint } from '../azurite/startAzurite';
import { emulatorConnectionString } from '../servicebus-emulator';
import { readLocalServicePorts } from './localPorts';

/** The local emulator on its default port, as local.settings.json names it: a connection naming a port is kept. */
const LOCAL_EMULATOR = /^Endpoint=sb:\/\/(localhost|127\.0\.0\.1)\/?;.*UseDevelopmentEmulator=true/i;
const DEVELOPMENT_STORAGE = /^\s*UseDevelopmentStorage=true;?\s*$/i;

/**
 * The settings with their local-service connections moved to the ports `npm run start:servicebus` uses
 * (SERVICEBUS_EMULATOR_PORT, AZURITE_TABLE_PORT, AZURITE_BLOB_PORT), so that a tool reaches the services it
 * started. Only the local defaults are rewritten (`sb://localhost` with no port, `UseDevelopmentStorage=true`): a
 * connection that names its endpoint, to Azure or to a port of its own, is left as it is.
 */
export function withLocalServicePorts(
  env: Readonly<Record<string, string | undefined>>,
): Record<string, string | undefined> {
  const ports = readLocalServicePorts(env);
  const moved: Record<string, string | undefined> = { ...env };
  if (LOCAL_EMULATOR.test(env.ServiceBusConnection ?? '')) {
    moved.ServiceBusConnection = emulatorConnectionString(ports.SERVICEBUS_EMULATOR_PORT);
  }
  // The connection the app falls back to, as src/config.ts reads it.
  if (DEVELOPMENT_STORAGE.test(env.JobsStorage ?? env.AzureWebJobsStorage ?? '')) {
    moved.JobsStorage = azuriteConnectionString(
      azuriteEndpoint(ports.AZURITE_TABLE_PORT),
      azuriteEndpoint(ports.AZURITE_BLOB_PORT),
    );
  }
  return moved;
}
