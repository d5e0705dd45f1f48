import type { ServiceBusWorld } from '../support/serviceBusApp';
import { queueName, startServiceBusWorld } from '../support/serviceBusApp';
import type { DotnetTestResult } from './dotnetTests';
import { failuresOf, runDotnetTests } from './dotnetTests';

for (const settlement of ['host', 'explicit']) {
  describe(`the platform's C# producer on the .NET client, into the app (${settlement} settlement)`, () => {
    let world: ServiceBusWorld;
    let results: DotnetTestResult[];

    beforeAll(async () => {
      world = await startServiceBusWorld({ MaxDeliveryCount: 3 });
      const host = await world.startHost(settlement);
      results = await runDotnetTests(['ProducerTests'], {
        SDAP_INTEROP_APP_SERVICEBUS: world.emulator.connectionString,
        SDAP_INTEROP_APP_QUEUE: queueName,
        // The app's root: the C# tests name the routes with their `api/` prefix, as docs/api.md writes them.
        SDAP_INTEROP_APP_URL: new URL('/', host.url).href,
        SDAP_INTEROP_APP_SETTLEMENT: settlement,
      });
    }, 300_000);

    afterAll(() => world?.close());

    it('runs its jobs, retries them, and dead-letters the bad ones with the reasons the records show (interop/dotnet/ProducerTests.cs)', () => {
      expect(failuresOf(results, 'ProducerTests')).toEqual([]);
    });
  });
}
