import { loadConfig, managedIdentityProductionSettings } from '../../src/config';
import type { FunctionDefinition } from '../../src/functions/functionTable';
import { createFunctionTable } from '../../src/functions/functionTable';
import { InMemoryJobQueue } from '../../src/queue/inMemoryJobQueue';
import { createJobsRuntime } from '../../src/runtime';

/** What production sets (infra/app/api.bicep); nothing here connects until a job is sent. */
export const productionSettings: Record<string, string> = {
  ...managedIdentityProductionSettings({
    serviceBusNamespace: 'sb-test.servicebus.windows.net',
    storageAccountName: 'sttest',
    identityClientId: '00000000-0000-0000-0000-000000000001',
  }),
  Jobs__LogLevel: 'silent',
};

/** The function table the app registers with those settings (a local queue stands in for the Service Bus sender). */
export function productionFunctionTable(): FunctionDefinition[] {
  const config = loadConfig(productionSettings);
  const queue = new InMemoryJobQueue({
    queueName: config.serviceBus.queueName,
    lockDurationMs: 60_000,
    maxDeliveryCount: 10,
    maxConcurrency: 1,
  });
  return createFunctionTable(createJobsRuntime(config, { queue }));
}
