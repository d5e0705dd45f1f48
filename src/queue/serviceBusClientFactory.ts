import { ServiceBusClient } from '@azure/service-bus';
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
