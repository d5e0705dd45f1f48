import type { QueueProperties, StartedEmulator } from '../../tools/servicebus-emulator';
import { startServiceBusEmulator } from '../../tools/servicebus-emulator';
import type { DotnetTestResult } from './dotnetTests';
import { failuresOf, runDotnetTests } from './dotnetTests';

/** interop/dotnet/SessionTests.cs: one session-enabled queue per test, named there. */
const sessions: Partial<QueueProperties> = { RequiresSession: true, MaxDeliveryCount: 10 };
const queues: Record<string, Partial<QueueProperties>> = {
  'dotnet-session-basic': sessions,
  'dotnet-session-next': sessions,
  'dotnet-session-refuse': sessions,
  'dotnet-session-defer': sessions,
  'dotnet-session-processor': sessions,
};

describe("message sessions on the bundled emulator through Microsoft's .NET client (Azure.Messaging.ServiceBus 7.21)", () => {
  let emulator: StartedEmulator;
  let results: DotnetTestResult[];

  beforeAll(async () => {
    emulator = await startServiceBusEmulator({ port: 0, queues });
    results = await runDotnetTests(['SessionTests'], { SDAP_INTEROP_EMULATOR: emulator.connectionString });
  }, 300_000);

  afterAll(() => emulator?.close());

  it('serves session receivers, session state and lock, deferral in a session and the session processor (interop/dotnet/SessionTests.cs)', () => {
    expect(failuresOf(results, 'SessionTests')).toEqual([]);
  });
});
