import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseDuration } from './parseDuration';

const duration = z.union([z.string(), z.number().nonnegative()]).transform((value, ctx) => {
  const ms = typeof value === 'number' ? value : parseDuration(value);
  if (ms === undefined || ms <= 0) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a positive ISO-8601 duration (PT1M) or TimeSpan (00:01:00), got ${JSON.stringify(value)}`,
    });
    return z.NEVER;
  }
  return ms;
});

// Empty strings are how the official emulator's sample config says "no forwarding".
const entityName = z
  .string()
  .optional()
  .transform((value) => (value ? value : undefined));

/** `Properties` of a queue in the official emulator's Config.json; durations also accept milliseconds. */
const queuePropertiesSchema = z.looseObject({
  MaxDeliveryCount: z.number().int().positive().default(3),
  LockDuration: duration.prefault('PT1M'),
  DefaultMessageTimeToLive: duration.prefault('PT1H'),
  RequiresDuplicateDetection: z.boolean().default(false),
  DuplicateDetectionHistoryTimeWindow: duration.prefault('PT20S'),
  DeadLetteringOnMessageExpiration: z.boolean().default(false),
  RequiresSession: z.boolean().default(false),
  ForwardTo: entityName,
  ForwardDeadLetteredMessagesTo: entityName,
});

const namedEntity = z.looseObject({ Name: z.string().min(1) });

/** The official Service Bus emulator's Config.json, as far as this emulator reads it. */
const emulatorConfigSchema = z.looseObject({
  UserConfig: z.looseObject({
    Namespaces: z
      .array(
        z.looseObject({
          Name: z.string().default('sbemulatorns'),
          Queues: z.array(namedEntity.extend({ Properties: queuePropertiesSchema.prefault({}) })).default([]),
          Topics: z.array(namedEntity).default([]),
        }),
      )
      .min(1),
  }),
});

export type EmulatorConfig = z.input<typeof emulatorConfigSchema>;
export type QueueProperties = z.input<typeof queuePropertiesSchema>;

/** A queue's properties with every default applied and every duration in milliseconds. */
export interface QueueSettings {
  name: string;
  maxDeliveryCount: number;
  lockDurationMs: number;
  defaultMessageTimeToLiveMs: number;
  requiresDuplicateDetection: boolean;
  duplicateDetectionHistoryTimeWindowMs: number;
  deadLetteringOnMessageExpiration: boolean;
  requiresSession: boolean;
  forwardTo: string | undefined;
  forwardDeadLetteredMessagesTo: string | undefined;
}

export interface NamespaceSettings {
  name: string;
  queues: QueueSettings[];
  /** Declared topics are known so that using one fails as "not implemented" rather than "not found". */
  topicNames: string[];
}

export function readEmulatorConfig(path: string): EmulatorConfig {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`Cannot read the emulator config ${path}: ${(error as Error).message}`);
  }
  return json as EmulatorConfig;
}

/**
 * Validates the config (a Config.json object) once, at start-up, and merges the queues declared in code.
 * Errors name the offending setting.
 */
export function resolveNamespace(
  config: EmulatorConfig | undefined,
  extraQueues: Record<string, Partial<QueueProperties>> = {},
): NamespaceSettings {
  const parsed = emulatorConfigSchema.safeParse(
    config ?? { UserConfig: { Namespaces: [{ Name: 'sbemulatorns', Queues: [] }] } },
  );
  if (!parsed.success) {
    throw new Error(`Invalid emulator config: ${z.prettifyError(parsed.error)}`);
  }
  const namespace = parsed.data.UserConfig.Namespaces[0];
  if (!namespace) {
    throw new Error('Invalid emulator config: UserConfig.Namespaces is empty');
  }
  const queues = new Map<string, QueueSettings>();
  for (const queue of namespace.Queues) {
    queues.set(queue.Name.toLowerCase(), toSettings(queue.Name, queue.Properties));
  }
  for (const [name, properties] of Object.entries(extraQueues)) {
    const declared = namespace.Queues.find((queue) => queue.Name.toLowerCase() === name.toLowerCase());
    const merged = { ...(declared?.Properties ?? {}), ...properties };
    const result = queuePropertiesSchema.safeParse(merged);
    if (!result.success) {
      throw new Error(`Invalid properties for queue '${name}': ${z.prettifyError(result.error)}`);
    }
    queues.set(name.toLowerCase(), toSettings(name, result.data));
  }
  return {
    name: namespace.Name,
    queues: [...queues.values()],
    topicNames: namespace.Topics.map((topic) => topic.Name),
  };
}

function toSettings(name: string, properties: z.output<typeof queuePropertiesSchema>): QueueSettings {
  return {
    name,
    maxDeliveryCount: properties.MaxDeliveryCount,
    lockDurationMs: properties.LockDuration,
    defaultMessageTimeToLiveMs: properties.DefaultMessageTimeToLive,
    requiresDuplicateDetection: properties.RequiresDuplicateDetection,
    duplicateDetectionHistoryTimeWindowMs: properties.DuplicateDetectionHistoryTimeWindow,
    deadLetteringOnMessageExpiration: properties.DeadLetteringOnMessageExpiration,
    requiresSession: properties.RequiresSession,
    forwardTo: properties.ForwardTo,
    forwardDeadLetteredMessagesTo: properties.ForwardDeadLetteredMessagesTo,
  };
}
