import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';

// host.json durations are .NET TimeSpans: "hh:mm:ss" with optional fractional seconds.
const timeSpanMs = z
  .string()
  .regex(/^(\d+):(\d{2}):(\d{2}(?:\.\d+)?)$/, 'must be a TimeSpan like 00:05:00')
  .transform((value) => {
    const [hours, minutes, seconds] = value.split(':').map(Number) as [number, number, number];
    return Math.round(((hours * 60 + minutes) * 60 + seconds) * 1000);
  });

// Absent sections read as empty ones, so each default is written once, on its field.
const hostJsonSchema = z.object({
  extensions: z
    .object({
      serviceBus: z
        .object({
          maxConcurrentCalls: z.int().positive().default(16),
          maxAutoLockRenewalDuration: timeSpanMs.default(300_000),
        })
        .prefault({}),
    })
    .prefault({}),
});

export interface ServiceBusTriggerSettings {
  maxConcurrentCalls: number;
  maxAutoLockRenewalMs: number;
}

/** The Service Bus trigger's settings from `host.json`, as the Functions host reads them. */
export function readServiceBusTriggerSettings(
  path = resolve(process.cwd(), 'host.json'),
): ServiceBusTriggerSettings {
  const { serviceBus } = hostJsonSchema.parse(JSON.parse(readFileSync(path, 'utf8'))).extensions;
  return {
    maxConcurrentCalls: serviceBus.maxConcurrentCalls,
    maxAutoLockRenewalMs: serviceBus.maxAutoLockRenewalDuration,
  };
}
