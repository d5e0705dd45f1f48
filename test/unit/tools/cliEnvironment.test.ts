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
});
