import type * as identity from '@azure/identity';
import { ServiceBusClient } from '@azure/service-bus';
import type { AppConfig } from '../config';

/**
 * By connection string when one is set; otherwise by identity against the namespace, as the Functions host does
 * for `ServiceBusConnection__fullyQualifiedNamespace` (a user-assigned identity when `__clientId` is set).
 */
export function createServiceBusClient({
  connectionString,
  fullyQualifiedNamespace,
  managedIdentityClientId,
}: AppConfig['serviceBus']): ServiceBusClient {
  if (connectionString) return new ServiceBusClient(connectionString);
  if (!fullyQualifiedNamespace) throw new Error('No Service Bus connection is configured.');
  // Loaded only on this path: @azure/identity costs start-up time that connection-string and embedded runs skip.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { DefaultAzureCredential } = require('@azure/identity') as typeof identity;
  const credential = new DefaultAzureCredential(
    managedIdentityClientId ? { managedIdentityClientId } : undefined,
  );
  return new ServiceBusClient(fullyQualifiedNamespace, credential);
}
