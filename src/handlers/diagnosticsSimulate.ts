import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { PermanentJobError, TransientJobError } from '../jobs/errors';
import { defineJobHandler } from '../jobs/jobTypes/jobHandler';

export const diagnosticsSimulatePayloadSchema = z.object({
  durationMs: z.int().min(0).max(600_000).default(0),
  failTimes: z.int().min(0).max(100).default(0),
  failAlways: z.boolean().default(false),
  poison: z.boolean().default(false),
  /** Free text the job carries and the handler ignores: a label to find it by, or bulk to try size limits. */
  note: z.string().optional(),
});

/**
 * A job type for trying the system out: it sleeps, fails, or poisons on request. Registered only when
 * `Jobs__EnableDiagnostics=true`.
 */
export function createDiagnosticsSimulateHandler() {
  return defineJobHandler({
    jobType: 'diagnostics.simulate',
    payloadSchema: diagnosticsSimulatePayloadSchema,
    async handle({ durationMs, failTimes, failAlways, poison }, context) {
      const { attempt, cycle } = context;
      // The signal is read only to sleep on: reading it makes the run's AbortController, one per job otherwise
      // (measured in `npm run bench:profile`: the dearest step of the no-op run).
      if (durationMs > 0) await sleep(durationMs, undefined, { signal: context.signal });
      if (poison) throw new PermanentJobError('Simulated permanent failure (poison: true).');
      if (failAlways) throw new TransientJobError('Simulated transient failure (failAlways: true).');
      // By the attempt the job carries, not by runs counted here: a restarted or second instance sees the same
      // attempt, so a job fails exactly `failTimes` times wherever its attempts run. Only in the first attempt
      // cycle: a replay runs as it would once the cause of the failures was fixed.
      if (cycle === 1 && attempt <= failTimes)
        throw new TransientJobError(`Simulated transient failure ${attempt} of ${failTimes}.`);
    },
  });
}
