import type * as identity from '@azure/identity';
import type { TokenCredential } from '@azure/identity';

/**
 * The app's identity for Azure clients, as the Functions host resolves it: `DefaultAzureCredential`, pinned to a
 * user-assigned managed identity when its client id is set. `@azure/identity` is loaded here, on first use only:
 * its start-up cost is not paid by connection-string and embedded runs.
 */
export function azureCredential(managedIdentityClientId: string | undefined): TokenCredential {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { DefaultAzureCredential } = require('@azure/identity') as typeof identity;
  return new DefaultAzureCredential(managedIdentityClientId ? { managedIdentityClientId } : undefined);
}
