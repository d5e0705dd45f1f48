import { extname, join, resolve } from 'node:path';
import { startServiceProcess } from '../service-process/startServiceProcess';
import { startLocalHost } from './localHost';
import { listeningOn, readLocalPorts } from './localPorts';
import { localEnvironment } from './localSettings';
import { runUntilSignalled } from './runUntilSignalled';

/** A service's entry point beside this one: compiled JavaScript in dist/, or TypeScript when run from the sources. */
const entry = (service: string) => join(__dirname, '..', service, `main${extname(__filename)}`);

// `npm run start:servicebus`: the production path on a machine with only Node — the bundled Service Bus emulator,
// configured by the same Config.json as the official one, Azurite for job records and documents (Table + Blob, on
// their usual ports 10002 and 10000, in memory), and the local host on Service Bus and the table store. The emulator
// and Azurite run in processes of their own (their output prefixed with their names), so the three share the
// machine's cores instead of one event loop; they stop after the app has drained, and with it if it dies. Every port
// is a setting (`readLocalPorts`), so two can run side by side.
runUntilSignalled(async () => {
  const env = localEnvironment();
  const ports = readLocalPorts(env);
  const allPorts = Object.values(ports);
  const { SERVICEBUS_EMULATOR_PORT, AZURITE_TABLE_PORT, AZURITE_BLOB_PORT } = ports;
  const started = await Promise.allSettled([
    listeningOn(
      { SERVICEBUS_EMULATOR_PORT },
      () =>
        startServiceProcess<{ host: string; port: number; connectionString: string }>(
          'servicebus-emulator',
          entry('servicebus-emulator'),
          [
            ...['--port', String(SERVICEBUS_EMULATOR_PORT)],
            ...['--config', resolve(process.cwd(), 'infra/local/servicebus-emulator.config.json')],
          ],
        ),
      allPorts,
    ),
    listeningOn(
      { AZURITE_TABLE_PORT, AZURITE_BLOB_PORT },
      () =>
        startServiceProcess<{ connectionString: string; tableEndpoint: string; blobEndpoint: string }>(
          'azurite',
          entry('azurite'),
          ['--table-port', String(AZURITE_TABLE_PORT), '--blob-port', String(AZURITE_BLOB_PORT)],
        ),
      allPorts,
    ),
  ]);
  const services = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const stopServices = async (): Promise<void> => {
    await Promise.all(services.map((service) => service.stop()));
  };
  const [emulator, azurite] = started;
  if (emulator.status === 'rejected' || azurite.status === 'rejected') {
    await stopServices();
    throw emulator.status === 'rejected' ? emulator.reason : (azurite as PromiseRejectedResult).reason;
  }
  const host = await startLocalHost({
    env: {
      ...env,
      Jobs__UseServiceBus: 'true',
      ServiceBusConnection: emulator.value.details.connectionString,
      JobsStorage: azurite.value.details.connectionString,
    },
  }).catch(async (error: unknown) => {
    await stopServices();
    throw error;
  });
  host.runtime.logger.info('Local services running', {
    serviceBus: `sb://${emulator.value.details.host}:${emulator.value.details.port}`,
    tables: azurite.value.details.tableEndpoint,
    blobs: azurite.value.details.blobEndpoint,
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
