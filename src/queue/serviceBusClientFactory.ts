import { ServiceBusAdministrationClient, ServiceBusClient } from '@azure/service-bus';
import { azureCredential } from '../azureCredential';
import type { AppConfig } from '../config';

/**
 * By connection string when one is set; otherwise by identity against the namespace, as the Functions host does
 * for `ServiceBusConnection__fullyQualifiedNamespace` (the managed identity with `__credential=managedidentity`, a
 * user-assigned one when `__clientId` is set).
 */
export function createServiceBusClient({
  connectionString,
  fullyQualifiedNamespace,
  identity,
}: AppConfig['serviceBus']): ServiceBusClient {
  if (connectionString) return new ServiceBusClient(connectionString);
  if (!fullyQualifiedNamespace) throw new Error('No Service Bus connection is configured.');
  return new ServiceBusClient(fullyQualifiedNamespace, azureCredential(identity));
}

type PipelinePolicy = Parameters<ServiceBusAdministrationClient['pipeline']['addPolicy']>[0];

const DEVELOPMENT_EMULATOR = /(^|;)\s*UseDevelopmentEmulator\s*=\s*true\s*(;|$)/i;

/**
 * The emulators serve the administration API over plain HTTP, as .NET's client speaks to them with
 * `UseDevelopmentEmulator=true`; the JavaScript client (7.9) always asks for HTTPS. This policy makes it ask as
 * .NET does, for emulator connection strings only.
 */
const plainHttpForTheEmulator: PipelinePolicy = {
  name: 'plainHttpForTheDevelopmentEmulator',
  sendRequest: (request, next) => {
    request.url = request.url.replace(/^https:/i, 'http:');
    request.allowInsecureConnection = true;
    return next(request);
  },
};

/** The administration API's client, on the same connection settings as {@link createServiceBusClient}. */
export function createServiceBusAdministrationClient({
  connectionString,
  fullyQualifiedNamespace,
  identity,
}: AppConfig['serviceBus']): ServiceBusAdministrationClient {
  // One quick retry: a reading for operators, not a step of processing.
  const retryOptions = { maxRetries: 1, retryDelayInMs: 500 };
  if (connectionString) {
    const admin = new ServiceBusAdministrationClient(connectionString, { retryOptions });
    // The client's constructor takes no extra policies; its pipeline does.
    if (DEVELOPMENT_EMULATOR.test(connectionString)) admin.pipeline.addPolicy(plainHttpForTheEmulator);
    return admin;
  }
  if (!fullyQualifiedNamespace) throw new Error('No Service Bus connection is configured.');
  return new ServiceBusAdministrationClient(fullyQualifiedNamespace, azureCredential(identity), {
    retryOptions,
  });
}
