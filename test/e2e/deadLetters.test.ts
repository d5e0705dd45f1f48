import { startLocalHost } from '../../tools/local-host/localHost';
import { embeddedTestSettings } from '../support/embeddedRuntime';
import { startServiceBusWorld } from '../support/serviceBusApp';
import { describeDeadLetterApi } from './deadLetterApiSuite';

describeDeadLetterApi('embedded in-memory queue', async () => {
  const host = await startLocalHost({ env: embeddedTestSettings, port: 0 });
  return { baseUrl: host.url, close: () => host.close() };
});

for (const settlement of ['host', 'explicit']) {
  describeDeadLetterApi(
    `Service Bus emulator, ${settlement} settlement, table store on Azurite`,
    async () => {
      const world = await startServiceBusWorld();
      const host = await world.startHost(settlement);
      return { baseUrl: host.url, close: () => world.close() };
    },
  );
}
