import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BicepBlock, BicepFile } from './bicepText';
import { objectEntries, readBicepFiles, resolve, stringLiteral, valueAt } from './bicepText';
import { excludesNodeModules, parseIgnoreRules } from './funcignore';
import { loadConfig, managedIdentityProductionSettings } from '../../src/config';
import { readServiceBusTriggerSettings } from '../../tools/local-host/hostJsonSettings';
import { filesBelow } from './filesBelow';
import { productionFunctionTable } from './productionApp';

const root = join(__dirname, '..', '..');
// infra/local holds the emulators' files for local development; nothing there is deployed.
const files = readBicepFiles(root, 'infra', ['infra/local/']);
const main = files.find((file) => file.path === 'infra/main.bicep')!;
const allBlocks = files.flatMap((file) => file.blocks);

// Microsoft's built-in role definition ids (learn.microsoft.com/azure/role-based-access-control/built-in-roles).
const documentedRoles: Record<string, string> = {
  '090c5cfd-751d-490a-894a-3ce6f1109419': 'Azure Service Bus Data Owner',
  '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39': 'Azure Service Bus Data Sender',
  '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0': 'Azure Service Bus Data Receiver',
  'b7e6dc6d-f1e8-4753-8033-0f276bb0955b': 'Storage Blob Data Owner',
  '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3': 'Storage Table Data Contributor',
  '3913510d-42f4-4e42-8a64-420c390055eb': 'Monitoring Metrics Publisher',
};
const guidPattern = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;
const serviceBusRolePattern = /090c5cfd|69a216fc|4f6d3b9b/;
const appRolesFile = 'infra/app/rbac.bicep';
const operatorRolesFile = 'infra/app/operatorRbac.bicep';

function resources(type: string): BicepBlock[] {
  return allBlocks.filter((block) => block.kind === 'resource' && !block.existing && block.type === type);
}

function single(type: string): BicepBlock {
  const found = resources(type);
  expect(found.map((block) => `${block.file.path}:${block.symbol}`)).toHaveLength(1);
  return found[0]!;
}

/** The role definition id a role assignment names (its one GUID). */
function roleOf(block: BicepBlock): string {
  const ids = (valueAt(block.body, 'properties.roleDefinitionId') ?? '').match(guidPattern) ?? [];
  expect([block.symbol, ids.length]).toEqual([block.symbol, 1]);
  return ids[0]!.toLowerCase();
}

/** The resource a role assignment's `scope` names, in the same file. */
function scopeOf(block: BicepBlock): BicepBlock | undefined {
  const scope = valueAt(block.body, 'scope');
  return block.file.blocks.find((candidate) => candidate.symbol === scope);
}

function roleAssignmentsIn(path: string): BicepBlock[] {
  return resources('Microsoft.Authorization/roleAssignments').filter((block) => block.file.path === path);
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
    expect(config.serviceBus.managedIdentityClientId).toBe('client');
    expect(config.store.kind).toBe('table');
    expect(config.store.connectionString).toBeUndefined();
    expect(config.store.tableServiceUri).toBe('https://stx.table.core.windows.net');
    expect(config.store.managedIdentityClientId).toBe('client');
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

  it('assigns each documented role, and no other role', () => {
    const assignments = resources('Microsoft.Authorization/roleAssignments');
    const assigned = assignments.map(roleOf);
    const everyGuid = files.flatMap((file) =>
      (file.text.match(guidPattern) ?? []).map((id) => id.toLowerCase()),
    );

    expect(assigned.filter((id) => !(id in documentedRoles))).toEqual([]);
    expect(everyGuid.filter((id) => !(id in documentedRoles))).toEqual([]);
    expect([...new Set(assigned)].sort()).toEqual(Object.keys(documentedRoles).sort());
    expect(new Set(assignments.map((block) => block.file.path))).toEqual(
      new Set([appRolesFile, operatorRolesFile]),
    );
    for (const block of roleAssignmentsIn(appRolesFile)) {
      expect([block.symbol, resolved(block, 'properties.principalType')]).toEqual([
        block.symbol,
        'ServicePrincipal',
      ]);
    }
    for (const block of roleAssignmentsIn(operatorRolesFile)) {
      expect([block.symbol, valueAt(block.body, 'properties.principalType')]).toEqual([
        block.symbol,
        'principalType',
      ]);
    }
  });

  it("scopes every Service Bus role, the operator's too, to the queue, not the namespace", () => {
    const serviceBusRoles = resources('Microsoft.Authorization/roleAssignments').filter((block) =>
      serviceBusRolePattern.test(block.body),
    );

    expect(serviceBusRoles.map((block) => `${block.file.path}:${block.symbol}`)).toHaveLength(5);
    for (const role of serviceBusRoles) {
      expect([role.symbol, scopeOf(role)?.type]).toEqual([
        role.symbol,
        'Microsoft.ServiceBus/namespaces/queues',
      ]);
    }
  });

  it('gives the app identity Azure Service Bus Data Owner on the queue for scaling, beside Sender and Receiver', () => {
    const roles = roleAssignmentsIn(appRolesFile).filter((block) => serviceBusRolePattern.test(block.body));
    const byRole = new Map(roles.map((block) => [documentedRoles[roleOf(block)], block]));

    expect([...byRole.keys()].sort()).toEqual([
      'Azure Service Bus Data Owner',
      'Azure Service Bus Data Receiver',
      'Azure Service Bus Data Sender',
    ]);
    const owner = byRole.get('Azure Service Bus Data Owner')!;
    expect(valueAt(owner.body, 'properties.principalId')).toBe('principalId');
    expect(valueAt(owner.body, 'name')).toBe(`guid(queue.id, principalId, '${roleOf(owner)}')`);
    expect(
      resources('Microsoft.Authorization/roleAssignments').filter(
        (block) => roleOf(block) === '090c5cfd-751d-490a-894a-3ce6f1109419',
      ),
    ).toEqual([owner]);
  });

  it('grants an optional operator what `npm run dlq` needs, and nothing when none is given', () => {
    const parameters = JSON.parse(
      readFileSync(join(root, 'infra', 'main.parameters.json'), 'utf8'),
    ).parameters;
    const operatorModule = allBlocks.find(
      (block) => block.kind === 'module' && block.type === 'app/operatorRbac.bicep',
    );
    const granted = roleAssignmentsIn(operatorRolesFile).map((block) => ({
      role: documentedRoles[roleOf(block)],
      scope: scopeOf(block)?.type,
    }));

    expect(main.text).toMatch(/^param operatorPrincipalId string = ''$/m);
    expect(main.text).toMatch(
      /@allowed\(\['User', 'Group', 'ServicePrincipal'\]\)\nparam operatorPrincipalType string = 'User'$/m,
    );
    expect(main.text).toMatch(
      /^module operatorRbac 'app\/operatorRbac\.bicep' = if \(!empty\(operatorPrincipalId\)\) \{$/m,
    );
    expect(operatorModule?.file.path).toBe('infra/main.bicep');
    expect(valueAt(operatorModule!.body, 'params.principalId')).toBe('operatorPrincipalId');
    expect(valueAt(operatorModule!.body, 'params.principalType')).toBe('operatorPrincipalType');
    expect(valueAt(operatorModule!.body, 'params.jobsStorageAccountName')).toBe('jobsStorage.outputs.name');
    expect(parameters.operatorPrincipalId.value).toBe('${OPERATOR_PRINCIPAL_ID}');
    expect(parameters.operatorPrincipalType.value).toBe('${OPERATOR_PRINCIPAL_TYPE}');
    // The dead-letter sub-queue and the queue (list, replay, discard), the job records, the CLI's telemetry events;
    // no blob role (the CLI never touches documents) and no Data Owner (no management call).
    expect(granted).toEqual(
      expect.arrayContaining([
        { role: 'Azure Service Bus Data Receiver', scope: 'Microsoft.ServiceBus/namespaces/queues' },
        { role: 'Azure Service Bus Data Sender', scope: 'Microsoft.ServiceBus/namespaces/queues' },
        { role: 'Storage Table Data Contributor', scope: 'Microsoft.Storage/storageAccounts' },
        { role: 'Monitoring Metrics Publisher', scope: 'Microsoft.Insights/components' },
      ]),
    );
    expect(granted).toHaveLength(4);
  });

  it('runs Node 22 on the Flex Consumption plan, as the user-assigned identity', () => {
    const site = single('Microsoft.Web/sites');
    const plan = single('Microsoft.Web/serverfarms');

    expect(resolved(site, 'properties.functionAppConfig.runtime.name')).toBe('node');
    expect(resolved(site, 'properties.functionAppConfig.runtime.version')).toBe('22');
    expect(resolved(plan, 'sku.name')).toBe('FC1');
    expect(resolved(plan, 'sku.tier')).toBe('FlexConsumption');
    expect(valueAt(site.body, 'properties.serverFarmId')).toBe(`${plan.symbol}.id`);
    expect(resolved(site, 'identity.type')).toBe('UserAssigned');
    expect(resolved(site, 'properties.functionAppConfig.deployment.storage.authentication.type')).toBe(
      'UserAssignedIdentity',
    );
  });

  it('turns local (key) authentication off on storage, Service Bus and Application Insights', () => {
    const accounts = resources('Microsoft.Storage/storageAccounts');
    const localAuth = (block: BicepBlock) =>
      [...objectEntries(valueAt(block.body, 'properties') ?? '')].find(
        ([key]) => key.toLowerCase() === 'disablelocalauth',
      )?.[1];

    expect(accounts.length).toBeGreaterThan(0);
    for (const account of accounts)
      expect(resolved(account, 'properties.allowSharedKeyAccess')).toBe('false');
    expect(localAuth(single('Microsoft.ServiceBus/namespaces'))).toBe('true');
    expect(localAuth(single('Microsoft.Insights/components'))).toBe('true');
  });

  it('outputs the function app name, its URL and the jobs API URL; takes environmentName and location', () => {
    const outputs = [...main.text.matchAll(/^output\s+(\w+)\s+\w+\s*=\s*(.+)$/gm)].map((m) => m[2]!);
    const parameters = JSON.parse(
      readFileSync(join(root, 'infra', 'main.parameters.json'), 'utf8'),
    ).parameters;

    expect(outputs).toEqual(expect.arrayContaining(['api.outputs.name', 'api.outputs.uri']));
    expect(outputs.some((value) => /\/api\/jobs'$/.test(value))).toBe(true);
    expect(main.text).toMatch(/^param environmentName string$/m);
    expect(main.text).toMatch(/^param location string$/m);
    expect(parameters.environmentName.value).toBe('${AZURE_ENV_NAME}');
    expect(parameters.location.value).toBe('${AZURE_LOCATION}');
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
