import { z } from 'zod';

/** Exponential backoff between attempts (see `retryDelayMs`). */
export interface RetrySettings {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** ± fraction of spread on each delay. */
  readonly jitter: number;
}

/** How the app runs jobs of one type: attempts, the handler's deadline, and the backoff between attempts. */
export interface JobTypePolicy {
  /** `maxAttempts` of a submission that names none, and the most one may name. */
  readonly maxAttempts: number;
  /** Whether `maxAttempts` is the type's own: then submissions may lower it but not raise it. */
  readonly maxAttemptsIsBound: boolean;
  readonly handlerTimeoutMs: number;
  readonly retry: RetrySettings;
}

/** What a handler definition may set; anything it leaves out comes from the app's settings. */
export const jobTypePolicyOverridesSchema = z
  .strictObject({
    maxAttempts: z.int().min(1).max(100).optional(),
    handlerTimeoutMs: z.int().positive().optional(),
    retry: z
      .strictObject({
        baseDelayMs: z.int().nonnegative().optional(),
        maxDelayMs: z.int().nonnegative().optional(),
        jitter: z.number().min(0).max(1).optional(),
      })
      .optional(),
  })
  .optional();

export type JobTypePolicyOverrides = z.input<typeof jobTypePolicyOverridesSchema>;

/** The app-wide settings every type starts from (`Jobs__DefaultMaxAttempts`, `Jobs__HandlerTimeoutMs`, `Jobs__Retry__*`). */
export interface JobTypePolicyDefaults {
  readonly defaultMaxAttempts: number;
  readonly handlerTimeoutMs: number;
  readonly retry: RetrySettings;
}

/** The settings' defaults, for registries built without settings (tests, tools). */
export const builtInPolicyDefaults: JobTypePolicyDefaults = {
  defaultMaxAttempts: 3,
  handlerTimeoutMs: 240_000,
  retry: { baseDelayMs: 5_000, maxDelayMs: 300_000, jitter: 0.2 },
};

/** A type's effective policy: its own values over the app's. */
export function effectivePolicy(
  overrides: JobTypePolicyOverrides,
  defaults: JobTypePolicyDefaults,
): JobTypePolicy {
  const retry = { ...defaults.retry, ...definedOnly(overrides?.retry ?? {}) };
  return {
    maxAttempts: overrides?.maxAttempts ?? defaults.defaultMaxAttempts,
    maxAttemptsIsBound: overrides?.maxAttempts !== undefined,
    handlerTimeoutMs: overrides?.handlerTimeoutMs ?? defaults.handlerTimeoutMs,
    retry: { ...retry, maxDelayMs: Math.max(retry.maxDelayMs, retry.baseDelayMs) },
  };
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}
