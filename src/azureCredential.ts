import type * as identity from '@azure/identity';
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/identity';
import type { AzureIdentity } from './config';

/**
 * The app's credential for one connection's Azure clients. In Azure (`<CONNECTION>__credential=managedidentity`):
 * `ManagedIdentityCredential` with the configured client id, nothing else, as Microsoft advises for production, so
 * a stray sign-in on the machine can never stand in for the app's identity. Elsewhere: `DefaultAzureCredential`, the
 * developer chain (pinned to a user-assigned identity when a client id is set). Made at the first token asked for:
 * `@azure/identity` (with MSAL, a fifth of the app's code) is loaded then, not at start-up, where the clients that
 * take this credential are only created.
 */
export function azureCredential(settings: AzureIdentity): TokenCredential {
  let credential: TokenCredential | undefined;
  return {
    getToken: (scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> =>
      (credential ??= createAzureCredential(settings)).getToken(scopes, options),
  };
}

/** The credential {@link azureCredential} hands its token requests to, made now. */
export function createAzureCredential({ managedIdentity, clientId }: AzureIdentity): TokenCredential {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { DefaultAzureCredential, ManagedIdentityCredential } = require('@azure/identity') as typeof identity;
  if (managedIdentity) return new ManagedIdentityCredential(clientId ? { clientId } : {});
  return new DefaultAzureCredential(clientId ? { managedIdentityClientId: clientId } : undefined);
}
