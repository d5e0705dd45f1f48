import { describeDeadLetterApi } from './deadLetterApiSuite';
import { embeddedApp, serviceBusApp } from './jobApiSuite';

describeDeadLetterApi('embedded in-memory queue', embeddedApp);

for (const settlement of ['host', 'explicit']) {
  describeDeadLetterApi(`Service Bus emulator, ${settlement} settlement, table store on Azurite`, () =>
    serviceBusApp(settlement),
  );
}
