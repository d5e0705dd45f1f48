import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { settingsSchema, timerScheduleSettings } from '../../src/config';
import { parseNcrontab } from '../../src/ncrontab';
import type { ArmParameter, ArmResource, ArmTemplate, InfraCheck } from '../../tools/dotnet/bicepCheck';
import {
  allowedBicepWarnings,
  armResources,
  checkInfra,
  formatDiagnostic,
} from '../../tools/dotnet/bicepCheck';
import { productionFunctionTable } from '../infra/productionApp';

// The real Bicep CLI (pinned in tools/dotnet/Bicep.csproj, restored from NuGet) compiles infra/ here; this suite
// lives in test/interop because it needs the .NET SDK, and CI runs it always. The checks of infra/ against the app's
// own files (settings, host.json, function table) that need no compiler stay in test/infra/bicepConsistency.test.ts.

const root = join(__dirname, '..', '..');
const parametersFile = readFileSync(join(root, 'infra', 'main.parameters.json'), 'utf8');

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

/**
 * A parameters file as azd substitutes it before deploying: azd's Bicep provider runs github.com/drone/envsubst on
 * each parameter (cli/azd/pkg/infra/provisioning/bicep/bicep_provider.go). `${VAR}` is the variable's value, empty
 * when unset. `${VAR=default}` and `${VAR:=default}` (and `-`, `:-`) give the default: drone/envsubst documents `=` as
 * "not set" and `:=` as "not set or empty", and evaluates both as "empty or not set" (its toDefault), which is what
 * azd does. Anything else with a `$` is refused, so that this model never passes over syntax it does not know.
 */
function azdSubstitute(text: string, env: Readonly<Record<string, string | undefined>>): string {
  const substituted = text.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[=-])([^}$]*))?\}/g,
    (_match, name: string, operator: string | undefined, fallback: string | undefined) => {
      const value = env[name] ?? '';
      return operator !== undefined && value === '' ? (fallback ?? '') : value;
    },
  );
  if (substituted.includes('$')) throw new Error(`unmodelled substitution syntax in: ${substituted}`);
  return substituted;
}

/** What azd hands to the deployment for a parameter's string (armParameterFileValue: Go's ParseBool, ParseInt). */
function asAzdPasses(value: unknown, definition: ArmParameter): unknown {
  if (typeof value !== 'string') return value;
  switch (definition.type.toLowerCase()) {
    case 'bool':
      if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
      if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
      return value;
    case 'int':
      return /^[+-]?\d+$/.test(value) ? Number(value) : value;
    default:
      return value;
  }
}

/** Why the template would refuse the value, or undefined when it takes it. */
function refusal(value: unknown, definition: ArmParameter): string | undefined {
  const expected = { string: 'string', securestring: 'string', bool: 'boolean', int: 'number' }[
    definition.type.toLowerCase()
  ];
  if (expected && typeof value !== expected) return `${JSON.stringify(value)} is not ${definition.type}`;
  if (definition.allowedValues && !definition.allowedValues.includes(value)) {
    return `${JSON.stringify(value)} is not one of ${JSON.stringify(definition.allowedValues)}`;
  }
  if (typeof value === 'number' && definition.minValue !== undefined && value < definition.minValue) {
    return `${value} is below ${definition.minValue}`;
  }
  if (typeof value === 'number' && definition.maxValue !== undefined && value > definition.maxValue) {
    return `${value} is above ${definition.maxValue}`;
  }
  return undefined;
}

/** The parameters azd passes for an environment: each value after substitution and conversion. */
function azdParameters(template: ArmTemplate, env: Readonly<Record<string, string | undefined>>) {
  const { parameters } = JSON.parse(parametersFile) as { parameters: Record<string, { value: unknown }> };
  return Object.entries(parameters).map(([name, { value }]) => {
    const definition = template.parameters?.[name];
    const substituted = typeof value === 'string' ? azdSubstitute(value, env) : value;
    const passed = definition ? asAzdPasses(substituted, definition) : substituted;
    return {
      name,
      definition,
      passed,
      refusal: definition ? refusal(passed, definition) : 'not a template parameter',
    };
  });
}

/** What azd always sets before it provisions. */
const azdEnvironment = { AZURE_ENV_NAME: 'sdap-jobs-dev', AZURE_LOCATION: 'swedencentral' };

/** A value for every variable the parameters file names, each valid and none equal to the file's default. */
const operatorEnvironment = {
  ...azdEnvironment,
  OPERATOR_PRINCIPAL_ID: '11111111-2222-3333-4444-555555555555',
  OPERATOR_PRINCIPAL_TYPE: 'Group',
  PROCESS_JOB_ALWAYS_READY_INSTANCES: '1',
  JOBS_RECONCILER_SCHEDULE: '0 */5 * * * *',
  JOBS_RETENTION_SCHEDULE: '0 0 3 * * *',
  ENABLE_DIAGNOSTICS: 'true',
  ENABLE_ALERTS: 'true',
  ALERT_EMAIL_ADDRESS: 'jobs-operators@example.com',
  QUEUE_BACKLOG_ALERT_THRESHOLD: '250',
  FUNCTION_FAILURES_ALERT_THRESHOLD: '3',
};

let infra: InfraCheck;
let resources: { module: string; resource: ArmResource }[];

function resourcesOf(type: string, module?: string): ArmResource[] {
  return resources
    .filter((entry) => entry.resource.type === type && !entry.resource.existing)
    .filter((entry) => module === undefined || entry.module === module)
    .map((entry) => entry.resource);
}

function moduleDeployment(name: string): ArmResource {
  const found = resourcesOf('Microsoft.Resources/deployments', 'main').filter(
    (resource) => resource.name === name,
  );
  expect(found).toHaveLength(1);
  return found[0]!;
}

function roleOf(assignment: ArmResource): string {
  const ids = String(assignment.properties?.roleDefinitionId ?? '').match(guidPattern) ?? [];
  expect(ids).toHaveLength(1);
  return ids[0]!.toLowerCase();
}

beforeAll(async () => {
  infra = await checkInfra();
  resources = armResources(infra.template);
}, 300_000);

describe('infra/ compiled by the Bicep CLI', () => {
  it('builds and lints with no error and no warning outside the allow-list', () => {
    expect(infra.failures.map(formatDiagnostic)).toEqual([]);
    expect(infra.unreadOutput).toEqual([]);
  });

  it('lists every warning it allows in infra/README.md, with its reason', () => {
    const readme = readFileSync(join(root, 'infra', 'README.md'), 'utf8');

    for (const { file, code, reason } of allowedBicepWarnings) {
      expect(reason.length).toBeGreaterThan(0);
      expect([file, code, readme.includes(code) && readme.includes(file)]).toEqual([file, code, true]);
    }
  });
});

describe('infra/main.parameters.json, as azd reads it', () => {
  it('names only parameters of the template, and every template parameter azd cannot leave out', () => {
    const named = azdParameters(infra.template, azdEnvironment).map((parameter) => parameter.name);
    const required = Object.entries(infra.template.parameters ?? {})
      .filter(([, definition]) => definition.defaultValue === undefined && !definition.nullable)
      .map(([name]) => name);

    expect(named.filter((name) => !(name in (infra.template.parameters ?? {})))).toEqual([]);
    expect(required.filter((name) => !named.includes(name))).toEqual([]);
  });

  it.each([
    ['unset', azdEnvironment],
    [
      'set to empty strings',
      { ...azdEnvironment, OPERATOR_PRINCIPAL_ID: '', OPERATOR_PRINCIPAL_TYPE: '', ENABLE_ALERTS: '' },
    ],
  ])('when the optional variables are %s, then every value is the template default', (_case, env) => {
    const parameters = azdParameters(infra.template, env);

    expect(parameters.filter((parameter) => parameter.refusal).map((p) => `${p.name}: ${p.refusal}`)).toEqual(
      [],
    );
    for (const { name, definition, passed } of parameters) {
      if (definition?.defaultValue !== undefined)
        expect([name, passed]).toEqual([name, definition.defaultValue]);
    }
    expect(parameters.find((parameter) => parameter.name === 'operatorPrincipalType')?.passed).toBe('User');
  });

  it('when every variable is set, then each value reaches its parameter, converted as azd converts it', () => {
    const parameters = azdParameters(infra.template, operatorEnvironment);
    const passed = Object.fromEntries(parameters.map((parameter) => [parameter.name, parameter.passed]));

    expect(parameters.filter((parameter) => parameter.refusal).map((p) => `${p.name}: ${p.refusal}`)).toEqual(
      [],
    );
    expect(passed).toEqual({
      environmentName: 'sdap-jobs-dev',
      location: 'swedencentral',
      operatorPrincipalId: '11111111-2222-3333-4444-555555555555',
      operatorPrincipalType: 'Group',
      processJobAlwaysReadyInstances: 1,
      reconcilerSchedule: '0 */5 * * * *',
      retentionSchedule: '0 0 3 * * *',
      enableDiagnostics: true,
      enableAlerts: true,
      alertEmailAddress: 'jobs-operators@example.com',
      queueBacklogAlertThreshold: 250,
      functionFailuresAlertThreshold: 3,
    });
  });

  it('refuses an operator type outside the allowed list, as the deployment would', () => {
    const parameters = azdParameters(infra.template, { ...azdEnvironment, OPERATOR_PRINCIPAL_TYPE: 'user' });

    expect(parameters.find((parameter) => parameter.name === 'operatorPrincipalType')?.refusal).toMatch(
      /not one of/,
    );
  });

  it("defaults the timer schedules to the app's own defaults, each valid NCRONTAB", () => {
    const parameters = azdParameters(infra.template, azdEnvironment);
    const schedules = {
      Jobs__Reconciler__Schedule: parameters.find((parameter) => parameter.name === 'reconcilerSchedule')
        ?.passed,
      Jobs__Retention__Schedule: parameters.find((parameter) => parameter.name === 'retentionSchedule')
        ?.passed,
    };

    for (const setting of timerScheduleSettings) {
      expect([setting, schedules[setting]]).toEqual([
        setting,
        settingsSchema.shape[setting].parse(undefined),
      ]);
      expect(() => parseNcrontab(String(schedules[setting]))).not.toThrow();
    }
  });
});

describe('the compiled template', () => {
  it("grants the operator's roles only when operatorPrincipalId is not empty, with the operator's principal type", () => {
    const operator = moduleDeployment('operatorRbac');
    const parameters = operator.properties?.parameters ?? {};

    const granted = resourcesOf('Microsoft.Authorization/roleAssignments', 'operatorRbac').map(
      (assignment) => ({
        role: documentedRoles[roleOf(assignment)],
        scope: String(assignment.scope).split("'")[1],
      }),
    );

    expect(operator.condition).toBe("[not(empty(parameters('operatorPrincipalId')))]");
    expect(parameters.principalId?.value).toBe("[parameters('operatorPrincipalId')]");
    expect(parameters.principalType?.value).toBe("[parameters('operatorPrincipalType')]");
    expect(infra.template.parameters?.operatorPrincipalId?.defaultValue).toBe('');
    // What `npm run dlq` needs: the dead-letter sub-queue and the queue, the job records, the CLI's telemetry events;
    // no blob role (the CLI never touches documents) and no Data Owner (no management call).
    expect(granted).toEqual([
      { role: 'Azure Service Bus Data Receiver', scope: 'Microsoft.ServiceBus/namespaces/queues' },
      { role: 'Azure Service Bus Data Sender', scope: 'Microsoft.ServiceBus/namespaces/queues' },
      { role: 'Storage Table Data Contributor', scope: 'Microsoft.Storage/storageAccounts' },
      { role: 'Monitoring Metrics Publisher', scope: 'Microsoft.Insights/components' },
    ]);
  });

  it('assigns each documented role and no other, every Service Bus role on the queue, Data Owner once', () => {
    const assignments = resources.filter(
      (entry) => entry.resource.type === 'Microsoft.Authorization/roleAssignments',
    );
    const everyGuid = (JSON.stringify(infra.template).match(guidPattern) ?? []).map((id) => id.toLowerCase());
    const serviceBusRoles = assignments.filter(({ resource }) =>
      /^Azure Service Bus/.test(documentedRoles[roleOf(resource)] ?? ''),
    );
    const owners = assignments.filter(
      ({ resource }) => roleOf(resource) === '090c5cfd-751d-490a-894a-3ce6f1109419',
    );

    expect(everyGuid.filter((id) => !(id in documentedRoles))).toEqual([]);
    expect([...new Set(assignments.map(({ resource }) => roleOf(resource)))].sort()).toEqual(
      Object.keys(documentedRoles).sort(),
    );
    expect(new Set(assignments.map((entry) => entry.module))).toEqual(new Set(['rbac', 'operatorRbac']));
    expect(serviceBusRoles).toHaveLength(5);
    for (const { resource } of serviceBusRoles) {
      expect(resource.scope).toMatch(/^\[resourceId\('Microsoft\.ServiceBus\/namespaces\/queues',/);
    }
    expect(owners.map((entry) => entry.module)).toEqual(['rbac']);
    for (const { module, resource } of assignments) {
      expect([module, resource.properties?.principalType]).toEqual([
        module,
        module === 'rbac' ? 'ServicePrincipal' : "[parameters('principalType')]",
      ]);
    }
  });

  it('runs Node 22 on the Flex Consumption plan, as the user-assigned identity', () => {
    const [site] = resourcesOf('Microsoft.Web/sites', 'api');
    const [plan] = resourcesOf('Microsoft.Web/serverfarms', 'api');
    const config = site?.properties?.functionAppConfig as Record<string, Record<string, unknown>>;

    expect(config.runtime).toEqual({ name: 'node', version: '22' });
    expect(plan?.sku).toEqual({ name: 'FC1', tier: 'FlexConsumption' });
    expect((site?.identity as { type: string }).type).toBe('UserAssigned');
    expect((config.deployment?.storage as { authentication: { type: string } }).authentication.type).toBe(
      'UserAssignedIdentity',
    );
  });

  it('keeps an always-ready instance for the Service Bus trigger, by its function name, off by default', () => {
    const api = moduleDeployment('api');
    const trigger = productionFunctionTable().find((definition) => definition.kind === 'serviceBusQueue');
    const [site] = resourcesOf('Microsoft.Web/sites', 'api');
    const scale = (site?.properties?.functionAppConfig as { scaleAndConcurrency: { alwaysReady: string } })
      .scaleAndConcurrency;

    expect(api.properties?.template?.variables?.serviceBusTriggerFunctionName).toBe(trigger?.name);
    expect(scale.alwaysReady).toContain("format('function:{0}', variables('serviceBusTriggerFunctionName'))");
    expect(scale.alwaysReady).toMatch(/^\[if\(greater\(parameters\('processJobAlwaysReadyInstances'\), 0\)/);
    expect(infra.template.parameters?.processJobAlwaysReadyInstances?.defaultValue).toBe(0);
  });

  it('turns local (key) authentication off on storage, Service Bus, Application Insights and Log Analytics', () => {
    const accounts = resourcesOf('Microsoft.Storage/storageAccounts');

    expect(accounts).toHaveLength(2);
    for (const account of accounts) expect(account.properties?.allowSharedKeyAccess).toBe(false);
    expect(resourcesOf('Microsoft.ServiceBus/namespaces').map((r) => r.properties?.disableLocalAuth)).toEqual(
      [true],
    );
    expect(resourcesOf('Microsoft.Insights/components').map((r) => r.properties?.DisableLocalAuth)).toEqual([
      true,
    ]);
    expect(
      resourcesOf('Microsoft.OperationalInsights/workspaces').map(
        (r) => (r.properties?.features as { disableLocalAuth: boolean }).disableLocalAuth,
      ),
    ).toEqual([true]);
  });

  it('sends diagnostics of the namespace, the function app and both accounts (and their services) only when asked', () => {
    const settings = resources.filter(
      (entry) => entry.resource.type === 'Microsoft.Insights/diagnosticSettings',
    );
    const scopes = settings.map(
      ({ module, resource }) => `${module}: ${String(resource.scope).split("'")[1]}`,
    );
    const workspaceIds = ['hostStorage', 'jobsStorage', 'serviceBus', 'api'].map(
      (name) => moduleDeployment(name).properties?.parameters?.logAnalyticsWorkspaceId,
    );

    expect(scopes.sort()).toEqual([
      'api: Microsoft.Web/sites',
      'hostStorage: Microsoft.Storage/storageAccounts',
      'hostStorage: Microsoft.Storage/storageAccounts/blobServices',
      'hostStorage: Microsoft.Storage/storageAccounts/tableServices',
      'jobsStorage: Microsoft.Storage/storageAccounts',
      'jobsStorage: Microsoft.Storage/storageAccounts/blobServices',
      'jobsStorage: Microsoft.Storage/storageAccounts/tableServices',
      'serviceBus: Microsoft.ServiceBus/namespaces',
    ]);
    for (const { resource } of settings) {
      expect(String(resource.condition)).toMatch(
        /variables\('diagnostics'\)|empty\(parameters\('logAnalyticsWorkspaceId'\)\)/,
      );
      expect(resource.properties?.workspaceId).toBe("[parameters('logAnalyticsWorkspaceId')]");
    }
    for (const passed of workspaceIds) {
      expect(String(passed)).toMatch(
        /^\[if\(parameters\('enableDiagnostics'\), createObject\('value', reference\(/,
      );
      expect(String(passed)).toMatch(
        /outputs\.logAnalyticsWorkspaceId\.value\), createObject\('value', ''\)\)\]$/,
      );
    }
    expect(infra.template.parameters?.enableDiagnostics?.defaultValue).toBe(false);
  });

  it('alerts on dead-lettered jobs, a backlog and failing functions, through the action group, only when asked', () => {
    const alerts = moduleDeployment('alerts');
    const rules = resourcesOf('Microsoft.Insights/metricAlerts', 'alerts');
    const criteria = rules.map((rule) => {
      const [criterion] = (rule.properties?.criteria as { allOf: Record<string, unknown>[] }).allOf;
      return [
        criterion?.metricNamespace,
        criterion?.metricName,
        criterion?.timeAggregation,
        criterion?.operator,
      ];
    });

    expect(alerts.condition).toBe("[parameters('enableAlerts')]");
    expect(infra.template.parameters?.enableAlerts?.defaultValue).toBe(false);
    expect(resourcesOf('Microsoft.Insights/actionGroups', 'alerts')).toHaveLength(1);
    expect(criteria).toEqual([
      ['Microsoft.ServiceBus/namespaces', 'DeadletteredMessages', 'Maximum', 'GreaterThan'],
      ['Microsoft.ServiceBus/namespaces', 'ActiveMessages', 'Minimum', 'GreaterThan'],
      ['microsoft.insights/components', 'requests/failed', 'Count', 'GreaterThan'],
    ]);
    for (const rule of rules) {
      expect(rule.properties?.actions).toBe("[variables('actions')]");
    }
  });

  it("outputs the function app's name, its URL and the jobs API URL; takes environmentName and location", () => {
    const outputs = infra.template.outputs ?? {};

    expect(Object.keys(outputs)).toEqual(
      expect.arrayContaining([
        'AZURE_FUNCTION_APP_NAME',
        'SERVICE_API_NAME',
        'SERVICE_API_URI',
        'JOBS_API_URL',
      ]),
    );
    expect(String(outputs.JOBS_API_URL?.value)).toMatch(/\/api\/jobs'/);
    expect(infra.template.parameters?.environmentName).toMatchObject({ type: 'string' });
    expect(infra.template.parameters?.environmentName?.defaultValue).toBeUndefined();
    expect(infra.template.parameters?.location?.defaultValue).toBeUndefined();
  });
});
