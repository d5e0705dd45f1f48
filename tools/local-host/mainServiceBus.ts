import { resolve } from 'node:path';
import { startAzurite } from '../azurite/startAzurite';
import { startServiceBusEmulator } from '../servicebus-emulator';
import { startLocalHost } from './localHost';
import { localEnvironment } from './localSettings';
import { runUntilSignalled } from './runUntilSignalled';

// `npm run start:servicebus`: the production path on a machine with only Node — the bundled Service Bus emulator,
// configured by the same Config.json as the official one, Azurite for job records and documents (Table + Blob, on
// their usual ports 10002 and 10000, in memory), and the local host on Service Bus and the table store.
runUntilSignalled(async () => {
  const env = localEnvironment();
  const emulator = await startServiceBusEmulator({
    port: Number(env.SERVICEBUS_EMULATOR_PORT ?? 5672),
    config: resolve(process.cwd(), 'infra/local/servicebus-emulator.config.json'),
  });
  const azurite = await startAzurite({ tablePort: 10002, blobPort: 10000 }).catch(async (error: unknown) => {
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
      await host.close();
      await stopServices();
    },
    logger: host.runtime.logger,
  };
});
