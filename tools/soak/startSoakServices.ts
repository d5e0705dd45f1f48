import { startAzurite } from '../azurite/startAzurite';
import { startServiceBusEmulator } from '../servicebus-emulator';
import { FaultProxy } from './faultProxy';

export interface SoakServices {
  /** What the app is given: both services reached through their fault proxies. */
  readonly appServiceBusConnection: string;
  readonly appStorageConnection: string;
  /** The emulator itself, for reading what the broker holds without going through a fault. */
  readonly directServiceBusConnection: string;
  readonly storageProxy: FaultProxy;
  readonly brokerProxy: FaultProxy;
  close(): Promise<void>;
}

export interface SoakServicesOptions {
  /** The emulator's Config.json: the queue as `npm run start:servicebus` has it. */
  emulatorConfig: string;
  queueName: string;
  /**
   * The queue's lock duration: messages a killed app held come back after it. Shorter than the config's minute, so a
   * run with many kills ends in minutes.
   */
  lockDuration: string;
}

/**
 * The bundled Service Bus emulator and Azurite (in memory, fresh for every run) in this process, each behind a fault
 * proxy. Only the app runs in a process of its own: it is the one that gets killed.
 */
export async function startSoakServices(options: SoakServicesOptions): Promise<SoakServices> {
  const closers: (() => Promise<void>)[] = [];
  const close = async (): Promise<void> => {
    for (const closer of closers.reverse()) await closer().catch(() => undefined);
  };
  try {
    const emulator = await startServiceBusEmulator({
      port: 0,
      config: options.emulatorConfig,
      queues: { [options.queueName]: { LockDuration: options.lockDuration } },
    });
    closers.push(() => emulator.close());
    const azurite = await startAzurite();
    closers.push(() => azurite.close());
    const tablePort = new URL(azurite.tableEndpoint).port;
    const brokerProxy = new FaultProxy('127.0.0.1', emulator.port);
    const storageProxy = new FaultProxy('127.0.0.1', Number(tablePort));
    await brokerProxy.start();
    closers.push(() => brokerProxy.close());
    await storageProxy.start();
    closers.push(() => storageProxy.close());
    return {
      appServiceBusConnection: emulator.connectionString.replace(
        `localhost:${emulator.port}`,
        `localhost:${brokerProxy.port}`,
      ),
      appStorageConnection: azurite.connectionString.replace(`:${tablePort}/`, `:${storageProxy.port}/`),
      directServiceBusConnection: emulator.connectionString,
      storageProxy,
      brokerProxy,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
