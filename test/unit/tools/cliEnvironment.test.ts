import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliEnvironment } from '../../../tools/cli/cliEnvironment';
import { UsageError } from '../../../tools/cli/runCli';

function settingsFile(values: Record<string, string>): string {
  const path = join(mkdtempSync(join(tmpdir(), 'sdap-cli-settings-')), 'azure.settings.json');
  writeFileSync(path, JSON.stringify({ IsEncrypted: false, Values: values }));
  return path;
}

describe('cliEnvironment', () => {
  it('with --settings none, then only the environment counts, not ./local.settings.json', () => {
    expect(cliEnvironment('none', { Jobs__UseServiceBus: 'true' })).toEqual({ Jobs__UseServiceBus: 'true' });
  });

  it('with --settings <file>, then that file gives the defaults and the environment wins over it', () => {
    const path = settingsFile({ PORT: '7171', Jobs__Store: 'table' });

    expect(cliEnvironment(path, { Jobs__Store: 'memory' })).toEqual({ PORT: '7171', Jobs__Store: 'memory' });
  });

  it('with --settings naming no file, then it is a usage error naming the path', () => {
    const missing = join(tmpdir(), 'no-such-dir', 'local.settings.json');

    expect(() => cliEnvironment(missing, {})).toThrow(UsageError);
    expect(() => cliEnvironment(missing, {})).toThrow(`--settings: there is no file ${missing}.`);
  });

  describe('the local emulator and Azurite', () => {
    const emulator =
      'Endpoint=sb://localhost;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;';

    it('when their ports are moved, then the connections follow the settings that move npm run start:servicebus', () => {
      const env = cliEnvironment('none', {
        ServiceBusConnection: emulator,
        AzureWebJobsStorage: 'UseDevelopmentStorage=true',
        SERVICEBUS_EMULATOR_PORT: '41080',
        AZURITE_TABLE_PORT: '41082',
        AZURITE_BLOB_PORT: '41083',
      });

      expect(env.ServiceBusConnection).toMatch(
        /^Endpoint=sb:\/\/localhost:41080;.*UseDevelopmentEmulator=true;$/,
      );
      expect(env.JobsStorage).toContain('TableEndpoint=http://127.0.0.1:41082/devstoreaccount1;');
      expect(env.JobsStorage).toContain('BlobEndpoint=http://127.0.0.1:41083/devstoreaccount1;');
    });

    it('when no port is moved, then they are on the usual ports', () => {
      const env = cliEnvironment('none', {
        ServiceBusConnection: emulator,
        JobsStorage: 'UseDevelopmentStorage=true',
      });

      expect(env.ServiceBusConnection).toContain('Endpoint=sb://localhost:5672;');
      expect(env.JobsStorage).toContain('TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;');
    });

    it('when a connection names its own port, then it is kept', () => {
      const named = {
        ServiceBusConnection: emulator.replace('sb://localhost', 'sb://localhost:5999'),
        SERVICEBUS_EMULATOR_PORT: '41080',
      };

      expect(cliEnvironment('none', named)).toEqual(named);
    });

    it('when the connections are to Azure, then they are left as they are', () => {
      const azure = {
        ServiceBusConnection:
          'Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=v',
        JobsStorage:
          'DefaultEndpointsProtocol=https;AccountName=contoso;AccountKey=a2V5;EndpointSuffix=core.windows.net',
        SERVICEBUS_EMULATOR_PORT: '41080',
        AZURITE_TABLE_PORT: '41082',
      };

      expect(cliEnvironment('none', azure)).toEqual(azure);
    });
  });
});
