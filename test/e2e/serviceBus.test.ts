import { startServiceBusWorld } from '../support/serviceBusApp';
import { describeJobApi } from './jobApiSuite';

for (const settlement of ['host', 'explicit']) {
  describeJobApi(`Service Bus emulator, ${settlement} settlement, table store on Azurite`, async () => {
    const world = await startServiceBusWorld({ MaxDeliveryCount: 5, LockDuration: 'PT5S' });
    const host = await world.startHost(settlement);
    return { baseUrl: host.url, close: () => world.close() };
  });
}
