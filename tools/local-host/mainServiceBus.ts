import { resolve } from 'node:path';
import { startAzurite } from '../azurite/startAzurite';
import { startServiceBusEmulator } from '../servicebus-emulator';
import { startLocalHost } from './localHost';
import { listeningOn, readLocalPorts } from './localPorts';
import { localEnvironment } from './localSettings';
import { runUntilSignalled } from './runUntilSignalled';

// `npm run start:servicebus`: the production path on a machine with only Node — the bundled Service Bus emulator,
// configured by the same Config.json as the official one, Azurite for job records and documents (Table + Blob, on
// their usual ports 10002 and 10000, in memory), and the local host on Service Bus and the table store. Every port
// is a setting (`readLocalPorts`), so two can run side by side.
runUntilSignalled(async () => {
  const env = localEnvironment();
  const ports = readLocalPorts(env);
  const allPorts = Object.values(ports);
  const emulator = await listeningOn(
    { SERVICEBUS_EMULATOR_PORT: ports.SERVICEBUS_EMULATOR_PORT },
    () =>
      startServiceBusEmulator({
        port: ports.SERVICEBUS_EMULATOR_PORT,
        config: resolve(process.cwd(), 'infra/local/servicebus-emulator.config.json'),
      }),
    allPorts,
  );
  const { AZURITE_TABLE_PORT, AZURITE_BLOB_PORT } = ports;
  const azurite = await listeningOn(
    { AZURITE_TABLE_PORT, AZURITE_BLOB_PORT },
    () => startAzurite({ tablePort: AZURITE_TABLE_PORT, blobPort: AZURITE_BLOB_PORT }),
    allPorts,
  ).catch(async (error: unknown) => {
    await emulator.close();
    throw error;
  });
  const stopServices = async (): Promise<void> => {
    await emulator.close();
    await azurite.close();
  };
  const host = await startLocalHost({
    env: {
      ...env,
      Jobs__UseServiceBus: 'true',
      ServiceBusConnection: emulator.connectionString,
      JobsStorage: azurite.connectionString,
    },
  }).catch(async (error: unknown) => {
    await stopServices();
    throw error;
  });
  host.runtime.logger.info('Local services running', {
    serviceBus: `sb://${emulator.host}:${emulator.port}`,
    tables: azurite.tableEndpoint,
    blobs: azurite.blobEndpoint,
  });
  return {
    stop: async () => {
      const report = await host.close();
      await stopServices();
      return report;
    },
    logger: host.runtime.logger,
  };
});
