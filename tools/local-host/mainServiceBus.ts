import { resolve } from 'node:path';
import { startServiceBusEmulator } from '../servicebus-emulator';
import { startLocalHost } from './localHost';
import { localEnvironment } from './localSettings';
import { runUntilSignalled } from './runUntilSignalled';

// `npm run start:servicebus`: the production path on a machine with only Node — the bundled Service Bus emulator,
// configured by the same Config.json as the official one, and the local host on Service Bus against it.
runUntilSignalled(async () => {
  const env = localEnvironment();
  const emulator = await startServiceBusEmulator({
    port: Number(env.SERVICEBUS_EMULATOR_PORT ?? 5672),
    config: resolve(process.cwd(), 'infra/local/servicebus-emulator.config.json'),
  });
  const host = await startLocalHost({
    env: { ...env, Jobs__UseServiceBus: 'true', ServiceBusConnection: emulator.connectionString },
  }).catch(async (error: unknown) => {
    await emulator.close();
    throw error;
  });
  host.runtime.logger.info('Service Bus emulator running', {
    endpoint: `sb://${emulator.host}:${emulator.port}`,
  });
  return {
    stop: async () => {
      await host.close();
      await emulator.close();
    },
    logger: host.runtime.logger,
  };
});
