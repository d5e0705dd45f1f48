import { loadConfig, managedIdentityProductionSettings, settingNames, timerSchedule } from '../../src/config';

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
      identity: { managedIdentity: false, clientId: undefined },
    });
    expect(
      loadConfig({
        ...embedded,
        APPLICATIONINSIGHTS_CONNECTION_STRING: connectionString,
        APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD;ClientId=abc-123',
      }).telemetry,
    ).toMatchObject({ entraAuthentication: true, identity: { managedIdentity: true, clientId: 'abc-123' } });
    expect(
      loadConfig({
        ...embedded,
        APPLICATIONINSIGHTS_CONNECTION_STRING: connectionString,
        APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD',
      }).telemetry,
    ).toMatchObject({ entraAuthentication: true, identity: { managedIdentity: false, clientId: undefined } });
  });

  it('signs in with the managed identity where a connection says credential=managedidentity, as the host does', () => {
    const production = loadConfig(
      managedIdentityProductionSettings({
        serviceBusNamespace: 'sb.servicebus.windows.net',
        storageAccountName: 'st',
        identityClientId: 'client-1',
      }),
    );
    const developer = loadConfig({
      ServiceBusConnection__fullyQualifiedNamespace: 'sb.servicebus.windows.net',
      JobsStorage__accountName: 'st',
    });

    expect(production.serviceBus.identity).toEqual({ managedIdentity: true, clientId: 'client-1' });
    expect(production.store.identity).toEqual({ managedIdentity: true, clientId: 'client-1' });
    expect(developer.serviceBus.identity).toEqual({ managedIdentity: false, clientId: undefined });
    expect(developer.store.identity).toEqual({ managedIdentity: false, clientId: undefined });
    expect(
      loadConfig({
        Jobs__UseServiceBus: 'false',
        JobsStorage__credential: 'ManagedIdentity',
        ServiceBusConnection__credential: ' managedidentity ',
      }).store.identity.managedIdentity,
    ).toBe(true);
    expect(() => loadConfig({ Jobs__UseServiceBus: 'false', JobsStorage__credential: 'azurecli' })).toThrow(
      /JobsStorage__credential/,
    );
  });

  it('keeps the timer schedules of today when their settings are unset', () => {
    const config = loadConfig({ Jobs__UseServiceBus: 'false' });

    expect(config.timerSchedules.Jobs__Reconciler__Schedule.expression).toBe('0 */1 * * * *');
    expect(config.timerSchedules.Jobs__Retention__Schedule.expression).toBe('0 17 * * * *');
    expect(config.reconciler.intervalMs).toBeUndefined();
  });

  it('resolves a timer schedule %Setting% from the settings, as the host resolves it from app settings', () => {
    const config = loadConfig({ Jobs__UseServiceBus: 'false', Jobs__Retention__Schedule: '0 0 3 * * Sun' });
    const after = new Date('2026-03-02T10:00:00Z'); // a Monday

    expect(timerSchedule('%Jobs__Retention__Schedule%', config).next(after)?.toISOString()).toBe(
      '2026-03-08T03:00:00.000Z',
    );
    expect(timerSchedule('%Jobs__Reconciler__Schedule%', config).next(after)?.toISOString()).toBe(
      '2026-03-02T10:01:00.000Z',
    );
    expect(() => timerSchedule('%Jobs__LogLevel%', config)).toThrow(
      /names Jobs__LogLevel, which is not a schedule setting/,
    );
  });

  it('stops start-up naming a schedule setting that is not NCRONTAB', () => {
    const attempt = (value: string) =>
      loadConfig({ Jobs__UseServiceBus: 'false', Jobs__Reconciler__Schedule: value });

    expect(() => attempt('every minute')).toThrow(
      /Jobs__Reconciler__Schedule: 'every minute' is not a valid NCRONTAB expression: expected six fields/,
    );
    expect(() => attempt('0 61 * * * *')).toThrow(/Jobs__Reconciler__Schedule: .*minute 61 is outside 0-59/);
    expect(() => attempt('00:05:00')).toThrow(/Jobs__Reconciler__Schedule/);
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
