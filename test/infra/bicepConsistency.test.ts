import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BicepBlock, BicepFile } from './bicepText';
import { objectEntries, readBicepFiles, resolve, stringLiteral, valueAt } from './bicepText';
import { excludesNodeModules, parseIgnoreRules } from './funcignore';
import { loadConfig, managedIdentityProductionSettings } from '../../src/config';
import { readServiceBusTriggerSettings } from '../../tools/local-host/hostJsonSettings';
import { filesBelow } from './filesBelow';
import { productionFunctionTable } from './productionApp';

// What the Bicep compiler cannot see: infra/ against the app's own files (src/config.ts, the function table,
// host.json, azure.yaml, .funcignore), and text no template should hold. What the compiled template shows (roles and
// their scopes, runtime and plan, local auth, parameters, outputs, the azd parameters file) is checked on the real
// `bicep build` output in test/interop/bicepBuild.test.ts, which needs the .NET SDK.
const root = join(__dirname, '..', '..');
// infra/local holds the emulators' files for local development; nothing there is deployed.
const files = readBicepFiles(root, 'infra', ['infra/local/']);
const allBlocks = files.flatMap((file) => file.blocks);

function resources(type: string): BicepBlock[] {
  return allBlocks.filter((block) => block.kind === 'resource' && !block.existing && block.type === type);
}

function single(type: string): BicepBlock {
  const found = resources(type);
  expect(found.map((block) => `${block.file.path}:${block.symbol}`)).toHaveLength(1);
  return found[0]!;
}

function resolved(block: BicepBlock, path: string): string | undefined {
  const expression = valueAt(block.body, path);
  return expression === undefined ? undefined : resolve(files, block.file, expression);
}

function appSettingsBlock(): BicepBlock {
  const candidates = allBlocks.filter(
    (block) =>
      (block.type === 'config' || block.type === 'Microsoft.Web/sites/config') &&
      stringLiteral(valueAt(block.body, 'name') ?? '') === 'appsettings',
  );
  expect(candidates).toHaveLength(1);
  return candidates[0]!;
}

const settingsBlock = appSettingsBlock();
const appSettings = objectEntries(valueAt(settingsBlock.body, 'properties') ?? '');
const settingValue = (name: string) => {
  const expression = appSettings.get(name);
  return expression === undefined ? undefined : resolve(files, settingsBlock.file, expression);
};

function isoDurationSeconds(value: string): number {
  const match = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(value);
  if (!match) throw new Error(`not an ISO 8601 duration: ${value}`);
  const [, d = '0', h = '0', m = '0', s = '0'] = match;
  return ((Number(d) * 24 + Number(h)) * 60 + Number(m)) * 60 + Number(s);
}

describe('infra/ against the app', () => {
  it('sets every setting the app requires in production on the function app, with its fixed values', () => {
    const a = managedIdentityProductionSettings({
      serviceBusNamespace: 'a.servicebus.windows.net',
      storageAccountName: 'a',
      identityClientId: 'a',
    });
    const b = managedIdentityProductionSettings({
      serviceBusNamespace: 'b.servicebus.windows.net',
      storageAccountName: 'b',
      identityClientId: 'b',
    });

    const missing = Object.keys(a).filter((name) => !appSettings.has(name));
    const fixed = Object.entries(a).filter(([name, value]) => b[name as keyof typeof b] === value);

    expect(missing).toEqual([]);
    expect(fixed.length).toBeGreaterThan(0);
    for (const [name, value] of fixed) expect([name, settingValue(name)]).toEqual([name, value]);
  });

  it('requires settings that put the app on Service Bus and the table store by managed identity', () => {
    const config = loadConfig(
      managedIdentityProductionSettings({
        serviceBusNamespace: 'sb-x.servicebus.windows.net',
        storageAccountName: 'stx',
        identityClientId: 'client',
      }),
    );

    expect(config.useServiceBus).toBe(true);
    expect(config.serviceBus.connectionString).toBeUndefined();
    expect(config.serviceBus.fullyQualifiedNamespace).toBe('sb-x.servicebus.windows.net');
    expect(config.serviceBus.identity).toEqual({ managedIdentity: true, clientId: 'client' });
    expect(config.store.kind).toBe('table');
    expect(config.store.connectionString).toBeUndefined();
    expect(config.store.tableServiceUri).toBe('https://stx.table.core.windows.net');
    expect(config.store.identity).toEqual({ managedIdentity: true, clientId: 'client' });
  });

  it("gives the host every setting its trigger bindings name: the connection by identity, the queue's app setting", () => {
    const triggers = productionFunctionTable().filter((definition) => definition.kind === 'serviceBusQueue');

    expect(triggers.length).toBeGreaterThan(0);
    for (const trigger of triggers) {
      expect(appSettings.has(`${trigger.connection}__fullyQualifiedNamespace`)).toBe(true);
      expect(settingValue(`${trigger.connection}__credential`)).toBe('managedidentity');
      expect(appSettings.has(`${trigger.connection}__clientId`)).toBe(true);
      const expressions = [...trigger.queueName.matchAll(/%([^%]+)%/g)].map((match) => match[1]!);
      for (const name of expressions) expect([name, appSettings.has(name)]).toEqual([name, true]);
    }
  });

  it("gives every timer its schedule's app setting, with the app's default schedule", () => {
    const timers = productionFunctionTable().filter((definition) => definition.kind === 'timer');
    const defaults = loadConfig({ Jobs__UseServiceBus: 'false' }).timerSchedules;

    expect(timers.length).toBeGreaterThan(0);
    for (const timer of timers) {
      const name = /^%([^%]+)%$/.exec(timer.schedule)?.[1] as keyof typeof defaults | undefined;

      // A literal schedule could not be changed without a deployment of the code.
      expect([timer.name, name]).toEqual([timer.name, expect.any(String)]);
      expect([name, settingValue(name!)]).toEqual([name, defaults[name!]?.expression]);
    }
  });

  it('keeps local.settings.json (func start) with every timer schedule the host must resolve, at its default', () => {
    const local = JSON.parse(readFileSync(join(root, 'local.settings.json'), 'utf8')).Values;
    const defaults = loadConfig({ Jobs__UseServiceBus: 'false' }).timerSchedules;

    for (const [name, schedule] of Object.entries(defaults)) {
      expect([name, local[name]]).toEqual([name, schedule.expression]);
    }
  });

  it('names the Service Bus trigger by its function name for always-ready instances', () => {
    const api = files.find((file) => file.path === 'infra/app/api.bicep')!;
    const trigger = productionFunctionTable().find((definition) => definition.kind === 'serviceBusQueue');

    expect(resolve(files, api, 'serviceBusTriggerFunctionName')).toBe(trigger?.name);
  });

  it('connects host storage and Application Insights by identity, and sets no connection string', () => {
    expect(appSettings.has('AzureWebJobsStorage__accountName')).toBe(true);
    expect(settingValue('AzureWebJobsStorage__credential')).toBe('managedidentity');
    expect(appSettings.has('AzureWebJobsStorage__clientId')).toBe(true);
    expect(appSettings.has('APPLICATIONINSIGHTS_CONNECTION_STRING')).toBe(true);
    expect(appSettings.get('APPLICATIONINSIGHTS_AUTHENTICATION_STRING')).toMatch(
      /^'Authorization=AAD;ClientId=\$\{\w+\}'$/,
    );
    for (const connectionString of ['AzureWebJobsStorage', 'ServiceBusConnection', 'JobsStorage']) {
      expect([connectionString, appSettings.has(connectionString)]).toEqual([connectionString, false]);
    }
  });

  it("creates the app's default queue, and names it in the app setting", () => {
    const defaultQueue = loadConfig({ Jobs__UseServiceBus: 'false' }).serviceBus.queueName;
    const queue = single('Microsoft.ServiceBus/namespaces/queues');

    expect(resolved(queue, 'name')).toBe(defaultQueue);
    expect(settingValue('Jobs__ServiceBus__QueueName')).toBe(defaultQueue);
  });

  it("configures the queue for the app's idempotency, lock renewal and dead-lettering", () => {
    const queue = single('Microsoft.ServiceBus/namespaces/queues');
    const namespace = single('Microsoft.ServiceBus/namespaces');
    const { maxAutoLockRenewalMs } = readServiceBusTriggerSettings(join(root, 'host.json'));
    const { handlerTimeoutMs } = loadConfig({ Jobs__UseServiceBus: 'false' });
    const lockDuration = isoDurationSeconds(resolved(queue, 'properties.lockDuration') ?? '');
    const maxDeliveryCount = Number(resolved(queue, 'properties.maxDeliveryCount'));

    expect(resolved(namespace, 'sku.name')).toMatch(/^(Standard|Premium)$/);
    expect(resolved(queue, 'properties.requiresDuplicateDetection')).toBe('true');
    expect(
      isoDurationSeconds(resolved(queue, 'properties.duplicateDetectionHistoryTimeWindow') ?? ''),
    ).toBeGreaterThan(0);
    expect(resolved(queue, 'properties.deadLetteringOnMessageExpiration')).toBe('true');
    expect(isoDurationSeconds(resolved(queue, 'properties.defaultMessageTimeToLive') ?? '')).toBeGreaterThan(
      0,
    );
    expect(lockDuration).toBe(60);
    expect(handlerTimeoutMs).toBeLessThan(maxAutoLockRenewalMs);
    expect(maxDeliveryCount).toBeGreaterThanOrEqual(5);
    expect(maxDeliveryCount).toBeLessThanOrEqual(20);
  });

  it('has azure.yaml deploy the TypeScript function service from the production package the tool assembles', () => {
    const azureYaml = readFileSync(join(root, 'azure.yaml'), 'utf8');
    const funcignore = readFileSync(join(root, '.funcignore'), 'utf8');
    const rules = parseIgnoreRules(funcignore);

    expect(azureYaml).toMatch(/^ {4}language: ts$/m);
    expect(azureYaml).toMatch(/^ {4}host: function$/m);
    expect(azureYaml).toMatch(/^ {4}remoteBuild: false$/m);
    expect(azureYaml).toMatch(/^ {4}dist: dist\/package$/m);
    const hooks = [...azureYaml.matchAll(/^ {10}run: (.+)$/gm)].map((match) => match[1]);
    expect(hooks).toEqual([
      'npm run clean && npm run build && node dist/tools/package/main.js --out dist/package',
      'npm run clean && npm run build && node dist/tools/package/main.js --out dist/package',
    ]);
    expect(azureYaml).toMatch(/prepackage:/);
    // azd refuses `remoteBuild: false` when .funcignore leaves node_modules out, as git reads it.
    expect(excludesNodeModules(funcignore)).toBe(false);
    // Run from the project, Core Tools must not upload the assembled package inside the package.
    expect(rules.coreToolsDenies('dist/package/host.json')).toBe(true);
    expect(rules.gitignoreDenies('dist/package/host.json')).toBe(true);
    expect(single('Microsoft.Web/sites').body).toMatch(/'azd-service-name': 'api'/);
  });

  it('reads no keys and writes no connection strings with keys anywhere in infra/ or azure.yaml', () => {
    // infra/local is scanned too: its emulator connection string uses the emulators' fixed SharedAccessKey form,
    // which none of these patterns matches.
    const scanned = [...filesBelow(root, 'infra'), 'azure.yaml'];
    const offending = scanned.flatMap((path) => {
      const text = readFileSync(join(root, path), 'utf8');
      return [/listKeys\(/i, /ConnectionString=/i, /AccountKey=/i]
        .filter((pattern) => pattern.test(text))
        .map((pattern) => `${path}: ${pattern.source}`);
    });
    // Any list*() call on a deployed resource returns secrets (keys, SAS, connection strings).
    const listCalls = files.flatMap((file: BicepFile) =>
      [...file.text.matchAll(/\.list\w*\(/g)].map((m) => `${file.path}: ${m[0]}`),
    );

    expect(scanned.length).toBeGreaterThan(files.length);
    expect(offending).toEqual([]);
    expect(listCalls).toEqual([]);
  });
});
