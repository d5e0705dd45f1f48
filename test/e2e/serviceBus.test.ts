import { startServiceBusEmulator } from '../../tools/servicebus-emulator';
import { startLocalHost } from '../../tools/local-host/localHost';
import { embeddedTestSettings } from '../support/embeddedRuntime';
import { describeJobApi } from './jobApiSuite';

for (const settlement of ['host', 'explicit']) {
  describeJobApi(`Service Bus emulator, ${settlement} settlement`, async () => {
    const emulator = await startServiceBusEmulator({
      port: 0,
      queues: {
        'sdap-jobs': { MaxDeliveryCount: 5, LockDuration: 'PT5S', RequiresDuplicateDetection: true },
      },
    });
    const host = await startLocalHost({
      env: {
        ...embeddedTestSettings,
        Jobs__UseServiceBus: 'true',
        ServiceBusConnection: emulator.connectionString,
        Jobs__ServiceBus__Settlement: settlement,
        Jobs__Store: 'memory',
      },
      port: 0,
    });
    return {
      baseUrl: host.url,
      close: async () => {
        await host.close();
        await emulator.close();
      },
    };
  });
}
