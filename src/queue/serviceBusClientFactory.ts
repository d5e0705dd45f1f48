import type { RetryOptions } from '@azure/service-bus';
import { RetryMode, ServiceBusAdministrationClient, ServiceBusClient } from '@azure/service-bus';
import { azureCredential } from '../azureCredential';
import type { AppConfig } from '../config';

/**
 * How the app's client tries an operation again within a call's budget (`withinBudget`, 10 s). A send written on a
 * connection that then drops is never answered, and the SDK does not fail it when the link goes (7.9): only the
 * try's own timeout ends it, 60 s by default, and the next try waits 30 s more. So a send caught by a broker blip of a
 * second failed after its whole budget. Here a try gives up after 3 s (a send is answered in milliseconds) and the
 * next follows in about a second, on a new link: the blip costs a few seconds. The pauses are the host trigger's
 * (`host.json` `clientRetryOptions`, exponential from 0.8 s).
 */
const serviceBusClientRetryOptions: RetryOptions = {
  mode: RetryMode.Exponential,
  retryDelayInMs: 800,
  maxRetryDelayInMs: 60_000,
  maxRetries: 3,
  timeoutInMs: 3_000,
};

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
  const options = { retryOptions: serviceBusClientRetryOptions };
  if (connectionString) return new ServiceBusClient(connectionString, options);
  if (!fullyQualifiedNamespace) throw new Error('No Service Bus connection is configured.');
  return new ServiceBusClient(fullyQualifiedNamespace, azureCredential(identity), options);
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
