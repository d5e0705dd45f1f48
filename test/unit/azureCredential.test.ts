import { DefaultAzureCredential, ManagedIdentityCredential } from '@azure/identity';
import { createAzureCredential } from '../../src/azureCredential';
import { loadConfig, managedIdentityProductionSettings } from '../../src/config';

const telemetry = {
  APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=11111111-2222-3333-4444-555555555555',
};

describe('createAzureCredential', () => {
  it('in Azure, signs every client in with ManagedIdentityCredential alone', () => {
    const config = loadConfig({
      ...managedIdentityProductionSettings({
        serviceBusNamespace: 'sb.servicebus.windows.net',
        storageAccountName: 'st',
        identityClientId: 'client-1',
      }),
      ...telemetry,
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD;ClientId=client-1',
    });

    for (const identity of [config.serviceBus.identity, config.store.identity, config.telemetry!.identity]) {
      const credential = createAzureCredential(identity);

      expect(credential).toBeInstanceOf(ManagedIdentityCredential);
      expect(credential).not.toBeInstanceOf(DefaultAzureCredential);
    }
  });

  it('elsewhere, keeps the developer chain, pinned to a client id when one is set', () => {
    const config = loadConfig({
      ServiceBusConnection__fullyQualifiedNamespace: 'sb.servicebus.windows.net',
      ServiceBusConnection__clientId: 'client-2',
      JobsStorage__accountName: 'st',
      ...telemetry,
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD',
    });

    for (const identity of [config.serviceBus.identity, config.store.identity, config.telemetry!.identity]) {
      expect(createAzureCredential(identity)).toBeInstanceOf(DefaultAzureCredential);
    }
  });

  it('takes the system-assigned identity when managed identity is asked for without a client id', () => {
    expect(createAzureCredential({ managedIdentity: true, clientId: undefined })).toBeInstanceOf(
      ManagedIdentityCredential,
    );
  });
});
