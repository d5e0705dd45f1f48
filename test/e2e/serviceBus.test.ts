import { describeJobApi, serviceBusApp } from './jobApiSuite';

for (const settlement of ['host', 'explicit']) {
  describeJobApi(`Service Bus emulator, ${settlement} settlement, table store on Azurite`, () =>
    serviceBusApp(settlement, { MaxDeliveryCount: 5, LockDuration: 'PT5S' }),
  );
}
