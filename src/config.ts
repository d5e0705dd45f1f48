import { z } from 'zod';
import { ConfigurationError } from './jobs/errors';
import { builtInPolicyDefaults } from './jobs/jobTypes/jobTypePolicy';
import type { NcrontabSchedule } from './ncrontab';
import { parseNcrontab } from './ncrontab';

const flag = z.stringbool({ truthy: ['true', '1', 'yes'], falsy: ['false', '0', 'no'] });
const positiveInt = z.coerce.number().int().positive();
const nonNegativeInt = z.coerce.number().int().nonnegative();
const nonEmpty = z.string().trim().min(1);
/** `<CONNECTION>__credential`: the one value the Functions host defines for identity-based connections. */
const managedIdentityCredential = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(['managedidentity']));
/** A timer schedule, checked as the host's timer trigger reads it, so a typo stops start-up instead of the timer. */
const ncrontab = z
  .string()
  .trim()
  .superRefine((value, ctx) => {
    try {
      parseNcrontab(value);
    } catch (error) {
      ctx.addIssue({
        code: 'custom',
        message: `'${value}' is not a valid NCRONTAB expression: ${(error as Error).message}`,
      });
    }
  });

/**
 * Every app setting the app reads, by its app-setting name (`__` for hierarchy; the `:` form is accepted too).
 * This object is the one list of settings: documentation and infrastructure checks read it.
 */
export const settingsSchema = z.object({
  Jobs__UseServiceBus: flag.default(true),
  ServiceBusConnection: nonEmpty.optional(),
  ServiceBusConnection__fullyQualifiedNamespace: nonEmpty.optional(),
  /** `managedidentity`: the app's Service Bus client signs in with the managed identity alone, as the host does. */
  ServiceBusConnection__credential: managedIdentityCredential.optional(),
  ServiceBusConnection__clientId: nonEmpty.optional(),
  Jobs__ServiceBus__QueueName: nonEmpty.default('sdap-jobs'),
  Jobs__ServiceBus__Settlement: z.enum(['host', 'explicit']).default('host'),
  Jobs__DefaultMaxAttempts: positiveInt.max(100).default(builtInPolicyDefaults.defaultMaxAttempts),
  Jobs__Retry__BaseDelayMs: nonNegativeInt.default(builtInPolicyDefaults.retry.baseDelayMs),
  Jobs__Retry__MaxDelayMs: nonNegativeInt.default(builtInPolicyDefaults.retry.maxDelayMs),
  Jobs__Retry__Jitter: z.coerce.number().min(0).max(1).default(builtInPolicyDefaults.retry.jitter),
  Jobs__HandlerTimeoutMs: positiveInt.default(builtInPolicyDefaults.handlerTimeoutMs),
  Jobs__MaxConcurrency: positiveInt.max(1_000).default(16),
  Jobs__InMemory__LockDurationMs: positiveInt.default(60_000),
  Jobs__InMemory__MaxDeliveryCount: positiveInt.default(10),
  Jobs__ShutdownTimeoutMs: nonNegativeInt.default(30_000),
  Jobs__Store: z.enum(['table', 'memory']).optional(),
  JobsStorage: nonEmpty.optional(),
  JobsStorage__accountName: nonEmpty.optional(),
  JobsStorage__tableServiceUri: z.url().optional(),
  JobsStorage__blobServiceUri: z.url().optional(),
  JobsStorage__credential: managedIdentityCredential.optional(),
  JobsStorage__clientId: nonEmpty.optional(),
  AzureWebJobsStorage: nonEmpty.optional(),
  Jobs__Storage__JobsTable: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/, 'must be 3-63 letters or digits, starting with a letter')
    .default('JobRecords'),
  Jobs__Documents__StagingContainer: nonEmpty.default('staging'),
  Jobs__Documents__Container: nonEmpty.default('documents'),
  Jobs__ClaimGraceMs: nonNegativeInt.default(10_000),
  Jobs__OutageToleranceMs: nonNegativeInt.default(240_000),
  Jobs__CancelCheckIntervalMs: nonNegativeInt.default(5_000),
  Jobs__Retention__Days: z.coerce.number().positive().default(30),
  /** NCRONTAB of the `purgeFinishedJobs` timer (its `%Jobs__Retention__Schedule%`): hourly, at minute 17. */
  Jobs__Retention__Schedule: ncrontab.default('0 17 * * * *'),
  Jobs__Retention__MaxFinishedInMemory: positiveInt.default(10_000),
  Jobs__Reconciler__StaleAfterMs: positiveInt.default(300_000),
  /** NCRONTAB of the `reconcileJobs` timer (its `%Jobs__Reconciler__Schedule%`): every minute, on the minute. */
  Jobs__Reconciler__Schedule: ncrontab.default('0 */1 * * * *'),
  /** Local host only: runs every timer at this interval instead of its schedule. */
  Jobs__Reconciler__IntervalMs: positiveInt.optional(),
  Jobs__EnableDiagnostics: flag.default(false),
  Jobs__LogLevel: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  /** `auto`: `pretty` on a terminal, `json` otherwise (in Azure, and when output is piped). */
  Jobs__LogFormat: z.enum(['auto', 'json', 'pretty']).default('auto'),
  PORT: z.coerce.number().int().min(0).max(65_535).default(7071),
  APPLICATIONINSIGHTS_CONNECTION_STRING: nonEmpty
    .regex(
      /(^|;)\s*InstrumentationKey\s*=/i,
      'must be an Application Insights connection string (InstrumentationKey=…)',
    )
    .optional(),
  /** `Authorization=AAD` (system identity) or `Authorization=AAD;ClientId=<id>`, as the Functions host reads it. */
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: nonEmpty
    .regex(
      /(^|;)\s*Authorization\s*=\s*AAD\s*(;|$)/i,
      "must be 'Authorization=AAD' or 'Authorization=AAD;ClientId=<id>'",
    )
    .optional(),
});

export type SettingName = keyof typeof settingsSchema.shape;
export const settingNames = Object.keys(settingsSchema.shape) as SettingName[];

/** The settings a timer function's `%…%` schedule names. */
export const timerScheduleSettings = ['Jobs__Reconciler__Schedule', 'Jobs__Retention__Schedule'] as const;
export type TimerScheduleSetting = (typeof timerScheduleSettings)[number];

/**
 * How the app's Azure clients on one connection sign in. The Functions host decides the same way for its own
 * bindings on the connection: `<CONNECTION>__credential=managedidentity` means the managed identity (in Azure);
 * without it, the developer chain (`DefaultAzureCredential`: the Azure CLI, VS Code, environment variables, … and a
 * managed identity last).
 */
export interface AzureIdentity {
  readonly managedIdentity: boolean;
  /** A user-assigned managed identity's client id (`<CONNECTION>__clientId`); the system-assigned one without it. */
  readonly clientId: string | undefined;
}

/**
 * The app settings production sets: Service Bus and the table store, both reached with a user-assigned managed
 * identity. The infrastructure (`infra/app/api.bicep`) must set each of them; `test/infra` checks that it does.
 */
export function managedIdentityProductionSettings(deployment: {
  /** `<namespace>.servicebus.windows.net` */
  readonly serviceBusNamespace: string;
  readonly storageAccountName: string;
  /** Client id of the user-assigned managed identity the app runs as. */
  readonly identityClientId: string;
}): Partial<Record<SettingName, string>> {
  return {
    Jobs__UseServiceBus: 'true',
    ServiceBusConnection__fullyQualifiedNamespace: deployment.serviceBusNamespace,
    ServiceBusConnection__credential: 'managedidentity',
    ServiceBusConnection__clientId: deployment.identityClientId,
    // The host resolves the trigger's `%Jobs__ServiceBus__QueueName%` from app settings only and never sees the
    // schema's default, so production sets the name explicitly.
    Jobs__ServiceBus__QueueName: settingsSchema.shape.Jobs__ServiceBus__QueueName.parse(undefined),
    Jobs__Store: 'table',
    JobsStorage__accountName: deployment.storageAccountName,
    JobsStorage__credential: 'managedidentity',
    JobsStorage__clientId: deployment.identityClientId,
    // The host resolves the timers' `%…%` schedules from app settings only, as the queue name above.
    ...Object.fromEntries(
      timerScheduleSettings.map((name) => [name, settingsSchema.shape[name].parse(undefined)]),
    ),
  };
}

const appConfigSchema = settingsSchema
  .superRefine((s, ctx) => {
    if (
      s.Jobs__UseServiceBus &&
      !s.ServiceBusConnection &&
      !s.ServiceBusConnection__fullyQualifiedNamespace
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['ServiceBusConnection'],
        message:
          'Service Bus is on (Jobs__UseServiceBus=true) but no connection is configured: set ServiceBusConnection ' +
          '(a connection string) or ServiceBusConnection__fullyQualifiedNamespace (managed identity), ' +
          'or set Jobs__UseServiceBus=false to run the embedded in-memory queue',
      });
    }
    if (s.Jobs__Retry__MaxDelayMs < s.Jobs__Retry__BaseDelayMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['Jobs__Retry__MaxDelayMs'],
        message: `must be at least Jobs__Retry__BaseDelayMs (${s.Jobs__Retry__BaseDelayMs})`,
      });
    }
  })
  .transform((s) => ({
    useServiceBus: s.Jobs__UseServiceBus,
    serviceBus: {
      connectionString: s.ServiceBusConnection,
      fullyQualifiedNamespace: s.ServiceBusConnection__fullyQualifiedNamespace,
      identity: {
        managedIdentity: s.ServiceBusConnection__credential === 'managedidentity',
        clientId: s.ServiceBusConnection__clientId,
      },
      queueName: s.Jobs__ServiceBus__QueueName,
      settlement: s.Jobs__ServiceBus__Settlement,
    },
    defaultMaxAttempts: s.Jobs__DefaultMaxAttempts,
    retry: {
      baseDelayMs: s.Jobs__Retry__BaseDelayMs,
      maxDelayMs: s.Jobs__Retry__MaxDelayMs,
      jitter: s.Jobs__Retry__Jitter,
    },
    handlerTimeoutMs: s.Jobs__HandlerTimeoutMs,
    maxConcurrency: s.Jobs__MaxConcurrency,
    inMemoryQueue: {
      lockDurationMs: s.Jobs__InMemory__LockDurationMs,
      maxDeliveryCount: s.Jobs__InMemory__MaxDeliveryCount,
    },
    shutdownTimeoutMs: s.Jobs__ShutdownTimeoutMs,
    store: {
      kind: s.Jobs__Store ?? (s.Jobs__UseServiceBus ? 'table' : 'memory'),
      connectionString: s.JobsStorage ?? s.AzureWebJobsStorage,
      tableServiceUri:
        s.JobsStorage__tableServiceUri ??
        (s.JobsStorage__accountName && `https://${s.JobsStorage__accountName}.table.core.windows.net`),
      blobServiceUri:
        s.JobsStorage__blobServiceUri ??
        (s.JobsStorage__accountName && `https://${s.JobsStorage__accountName}.blob.core.windows.net`),
      identity: {
        managedIdentity: s.JobsStorage__credential === 'managedidentity',
        clientId: s.JobsStorage__clientId,
      },
      jobsTable: s.Jobs__Storage__JobsTable,
      stagingContainer: s.Jobs__Documents__StagingContainer,
      documentsContainer: s.Jobs__Documents__Container,
    },
    claimGraceMs: s.Jobs__ClaimGraceMs,
    outageToleranceMs: s.Jobs__OutageToleranceMs,
    cancelCheckIntervalMs: s.Jobs__CancelCheckIntervalMs,
    retention: {
      days: s.Jobs__Retention__Days,
      maxFinishedInMemory: s.Jobs__Retention__MaxFinishedInMemory,
    },
    reconciler: {
      staleAfterMs: s.Jobs__Reconciler__StaleAfterMs,
      /** Local host only: every timer at this interval instead of its schedule. */
      intervalMs: s.Jobs__Reconciler__IntervalMs,
    },
    timerSchedules: {
      Jobs__Reconciler__Schedule: parseNcrontab(s.Jobs__Reconciler__Schedule),
      Jobs__Retention__Schedule: parseNcrontab(s.Jobs__Retention__Schedule),
    } satisfies Record<TimerScheduleSetting, NcrontabSchedule>,
    enableDiagnostics: s.Jobs__EnableDiagnostics,
    logLevel: s.Jobs__LogLevel,
    logFormat: s.Jobs__LogFormat,
    port: s.PORT,
    telemetry: s.APPLICATIONINSIGHTS_CONNECTION_STRING
      ? {
          connectionString: s.APPLICATIONINSIGHTS_CONNECTION_STRING,
          entraAuthentication: s.APPLICATIONINSIGHTS_AUTHENTICATION_STRING !== undefined,
          identity: telemetryIdentity(s.APPLICATIONINSIGHTS_AUTHENTICATION_STRING),
        }
      : undefined,
  }))
  .superRefine((config, ctx) => {
    const { kind, connectionString, tableServiceUri } = config.store;
    if (kind === 'table' && !connectionString && !tableServiceUri) {
      ctx.addIssue({
        code: 'custom',
        path: ['JobsStorage'],
        message:
          'The table job store is selected (Jobs__Store=table, the default on Service Bus) but no storage is ' +
          'configured: set JobsStorage (or AzureWebJobsStorage) to a connection string, or JobsStorage__accountName ' +
          '(managed identity), or set Jobs__Store=memory',
      });
    }
  });

export type AppConfig = z.output<typeof appConfigSchema>;

/**
 * `Authorization=AAD;ClientId=<id>` names a user-assigned managed identity, as the host reads it: the managed identity
 * alone. `Authorization=AAD` without a client id keeps the developer chain, as an operator's CLI uses it after
 * `az login` (in Azure the chain ends with the system-assigned identity).
 */
function telemetryIdentity(authenticationString: string | undefined): AzureIdentity {
  const clientId = /(?:^|;)\s*ClientId\s*=\s*([^;]+)/i.exec(authenticationString ?? '')?.[1]?.trim();
  return { managedIdentity: clientId !== undefined, clientId };
}

/**
 * A timer function's schedule as the local host runs it: a `%Setting%` expression resolved from the validated
 * settings (defaults applied), as the Functions host resolves it from app settings; or a literal NCRONTAB expression.
 * Throws a {@link ConfigurationError} naming what is wrong.
 */
export function timerSchedule(expression: string, config: AppConfig): NcrontabSchedule {
  const name = /^%([^%]+)%$/.exec(expression.trim())?.[1];
  if (name === undefined) {
    try {
      return parseNcrontab(expression);
    } catch (error) {
      throw new ConfigurationError(
        `Timer schedule '${expression}' is not NCRONTAB: ${(error as Error).message}`,
      );
    }
  }
  if (!(timerScheduleSettings as readonly string[]).includes(name)) {
    throw new ConfigurationError(
      `Timer schedule '${expression}' names ${name}, which is not a schedule setting (${timerScheduleSettings.join(', ')})`,
    );
  }
  return config.timerSchedules[name as TimerScheduleSetting];
}

/**
 * Reads the settings from an environment (by default `process.env`), once, at start-up.
 * Throws a {@link ConfigurationError} that names every setting to fix.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): AppConfig {
  const result = appConfigSchema.safeParse(readSettings(env));
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `${issue.path.join('__') || 'settings'}: ${issue.message}`,
    );
    throw new ConfigurationError(`Invalid app settings:\n  - ${problems.join('\n  - ')}`);
  }
  return result.data;
}

// `Jobs:UseServiceBus` (local.settings.json, Linux-unfriendly) and `Jobs__UseServiceBus` name the same setting.
function readSettings(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const values: Record<string, string> = {};
  for (const name of settingNames) {
    const value = env[name] ?? env[name.replaceAll('__', ':')];
    // An empty app setting means "not set", as it does in the Functions host.
    if (value !== undefined && value.trim() !== '') values[name] = value;
  }
  return values;
}
