import { loadConfig, settingNames } from '../../src/config';

describe('loadConfig', () => {
  it('fails fast naming the connection settings when Service Bus is on without a connection', () => {
    expect(() => loadConfig({})).toThrow(
      /ServiceBusConnection.*ServiceBusConnection__fullyQualifiedNamespace.*Jobs__UseServiceBus=false/s,
    );
  });

  it('accepts a connection string or a namespace for identity-based connections', () => {
    const storage = { JobsStorage: 'UseDevelopmentStorage=true' };

    expect(
      loadConfig({
        ...storage,
        ServiceBusConnection: 'Endpoint=sb://x/;SharedAccessKeyName=a;SharedAccessKey=b',
      }).useServiceBus,
    ).toBe(true);
    expect(
      loadConfig({ ...storage, ServiceBusConnection__fullyQualifiedNamespace: 'ns.servicebus.windows.net' })
        .serviceBus,
    ).toMatchObject({
      fullyQualifiedNamespace: 'ns.servicebus.windows.net',
      queueName: 'sdap-jobs',
      settlement: 'host',
    });
  });

  it('applies the documented defaults in embedded mode', () => {
    const config = loadConfig({ Jobs__UseServiceBus: 'false' });

    expect(config).toMatchObject({
      useServiceBus: false,
      defaultMaxAttempts: 3,
      enableDiagnostics: false,
      maxConcurrency: 16,
      port: 7071,
      retry: { baseDelayMs: 5_000, maxDelayMs: 300_000, jitter: 0.2 },
    });
  });

  it('uses the table store on Service Bus and fails fast naming the storage settings when none is set', () => {
    const serviceBus = { ServiceBusConnection__fullyQualifiedNamespace: 'ns.servicebus.windows.net' };

    expect(() => loadConfig(serviceBus)).toThrow(
      /JobsStorage.*JobsStorage__accountName.*Jobs__Store=memory/s,
    );
    expect(
      loadConfig({ ...serviceBus, AzureWebJobsStorage: 'UseDevelopmentStorage=true' }).store,
    ).toMatchObject({
      kind: 'table',
      connectionString: 'UseDevelopmentStorage=true',
    });
    expect(loadConfig({ ...serviceBus, JobsStorage__accountName: 'sdapjobs' }).store).toMatchObject({
      tableServiceUri: 'https://sdapjobs.table.core.windows.net',
      blobServiceUri: 'https://sdapjobs.blob.core.windows.net',
    });
  });

  it('keeps the memory store in embedded mode unless the table store is asked for', () => {
    expect(loadConfig({ Jobs__UseServiceBus: 'false' }).store.kind).toBe('memory');
    expect(
      loadConfig({
        Jobs__UseServiceBus: 'false',
        Jobs__Store: 'table',
        JobsStorage: 'UseDevelopmentStorage=true',
      }).store.kind,
    ).toBe('table');
  });

  it('reads the colon form of a setting name as well', () => {
    expect(
      loadConfig({ 'Jobs:UseServiceBus': 'false', 'Jobs:Retry:BaseDelayMs': '10' }).retry.baseDelayMs,
    ).toBe(10);
  });

  it('names every invalid setting in one error', () => {
    const attempt = () =>
      loadConfig({
        Jobs__UseServiceBus: 'maybe',
        Jobs__DefaultMaxAttempts: 'three',
        Jobs__ServiceBus__Settlement: 'auto',
      });

    expect(attempt).toThrow(
      /Jobs__UseServiceBus[\s\S]*Jobs__ServiceBus__Settlement[\s\S]*Jobs__DefaultMaxAttempts/,
    );
  });

  it('refuses a maximum retry delay below the base delay', () => {
    expect(() =>
      loadConfig({
        Jobs__UseServiceBus: 'false',
        Jobs__Retry__BaseDelayMs: '1000',
        Jobs__Retry__MaxDelayMs: '10',
      }),
    ).toThrow(/Jobs__Retry__MaxDelayMs/);
  });

  it('lists every setting it reads by its app-setting name', () => {
    expect(settingNames).toEqual(
      expect.arrayContaining(['Jobs__UseServiceBus', 'ServiceBusConnection', 'PORT']),
    );
  });

  it('turns telemetry on with an Application Insights connection string, with Entra auth when asked', () => {
    const embedded = { Jobs__UseServiceBus: 'false' };
    const connectionString =
      'InstrumentationKey=11111111-2222-3333-4444-555555555555;IngestionEndpoint=https://x/';
    expect(loadConfig(embedded).telemetry).toBeUndefined();
    expect(
      loadConfig({ ...embedded, APPLICATIONINSIGHTS_CONNECTION_STRING: connectionString }).telemetry,
    ).toEqual({
      connectionString,
      entraAuthentication: false,
      managedIdentityClientId: undefined,
    });
    expect(
      loadConfig({
        ...embedded,
        APPLICATIONINSIGHTS_CONNECTION_STRING: connectionString,
        APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD;ClientId=abc-123',
      }).telemetry,
    ).toMatchObject({ entraAuthentication: true, managedIdentityClientId: 'abc-123' });
  });

  it('names a malformed telemetry setting', () => {
    const embedded = { Jobs__UseServiceBus: 'false' };
    expect(() => loadConfig({ ...embedded, APPLICATIONINSIGHTS_CONNECTION_STRING: 'https://x/' })).toThrow(
      /APPLICATIONINSIGHTS_CONNECTION_STRING: must be an Application Insights connection string/,
    );
    expect(() =>
      loadConfig({
        ...embedded,
        APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=k',
        APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=Key',
      }),
    ).toThrow(/APPLICATIONINSIGHTS_AUTHENTICATION_STRING/);
  });
});
