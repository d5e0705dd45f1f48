import type * as identity from '@azure/identity';
import type { TokenCredential } from '@azure/identity';
import type { AzureIdentity } from './config';

/**
 * The app's credential for one connection's Azure clients. In Azure (`<CONNECTION>__credential=managedidentity`):
 * `ManagedIdentityCredential` with the configured client id, nothing else, as Microsoft advises for production, so
 * a stray sign-in on the machine can never stand in for the app's identity. Elsewhere: `DefaultAzureCredential`, the
 * developer chain (pinned to a user-assigned identity when a client id is set). `@azure/identity` is loaded here, on
 * first use only: its start-up cost is not paid by connection-string and embedded runs.
 */
export function azureCredential({ managedIdentity, clientId }: AzureIdentity): TokenCredential {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { DefaultAzureCredential, ManagedIdentityCredential } = require('@azure/identity') as typeof identity;
  if (managedIdentity) return new ManagedIdentityCredential(clientId ? { clientId } : {});
  return new DefaultAzureCredential(clientId ? { managedIdentityClientId: clientId } : undefined);
}
