import type { QueueProperties, StartedEmulator } from '../../tools/servicebus-emulator';
import { startServiceBusEmulator } from '../../tools/servicebus-emulator';
import type { DotnetTestResult } from './dotnetTests';
import { failuresOf, runDotnetTests } from './dotnetTests';

/** interop/dotnet/EmulatorTests.cs: one queue per test, named there. */
const queues: Record<string, Partial<QueueProperties>> = {
  'dotnet-basic': {},
  'dotnet-batch': {},
  'dotnet-processor-manual': { LockDuration: 'PT2S' },
  'dotnet-processor-auto': {},
  'dotnet-abandon': {},
  'dotnet-deadletter': {},
  'dotnet-defer': {},
  'dotnet-schedule': {},
  'dotnet-peek': {},
  'dotnet-renew': {},
  'dotnet-delete': {},
  'dotnet-admin-counts': {},
};

describe("the bundled emulator through Microsoft's .NET client (Azure.Messaging.ServiceBus 7.21)", () => {
  let emulator: StartedEmulator;
  let results: DotnetTestResult[];

  beforeAll(async () => {
    emulator = await startServiceBusEmulator({ port: 0, queues });
    results = await runDotnetTests(['EmulatorTests', 'AdministrationTests'], {
      SDAP_INTEROP_EMULATOR: emulator.connectionString,
    });
  }, 300_000);

  afterAll(() => emulator?.close());

  it('serves every operation of interop/dotnet/EmulatorTests.cs as Service Bus does', () => {
    expect(failuresOf(results, 'EmulatorTests')).toEqual([]);
  });

  it('serves the administration client for queues and the namespace, and refuses topics with a reason (interop/dotnet/AdministrationTests.cs)', () => {
    expect(failuresOf(results, 'AdministrationTests')).toEqual([]);
  });
});
