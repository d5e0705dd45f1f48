import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { PermanentJobError, TransientJobError } from '../jobs/errors';
import { defineJobHandler } from './jobHandler';

export const diagnosticsSimulatePayloadSchema = z.object({
  durationMs: z.int().min(0).max(600_000).default(0),
  failTimes: z.int().min(0).max(100).default(0),
  failAlways: z.boolean().default(false),
  poison: z.boolean().default(false),
});

// Bounded so a long-running app that simulates many failing jobs does not grow without limit.
const maxTrackedJobs = 10_000;

/**
 * A job type for trying the system out: it sleeps, fails, or poisons on request. Registered only when
 * `Jobs__EnableDiagnostics=true`.
 */
export function createDiagnosticsSimulateHandler() {
  const runsByJobId = new Map<string, number>();

  function countRun(jobId: string): number {
    const runs = (runsByJobId.get(jobId) ?? 0) + 1;
    runsByJobId.delete(jobId);
    runsByJobId.set(jobId, runs);
    if (runsByJobId.size > maxTrackedJobs) runsByJobId.delete(runsByJobId.keys().next().value as string);
    return runs;
  }

  return defineJobHandler({
    jobType: 'diagnostics.simulate',
    payloadSchema: diagnosticsSimulatePayloadSchema,
    async handle({ durationMs, failTimes, failAlways, poison }, context) {
      // Only jobs asked to fail need their runs counted.
      const run = failTimes > 0 ? countRun(context.job.jobId) : 1;
      if (durationMs > 0) await sleep(durationMs, undefined, { signal: context.signal });
      if (poison) throw new PermanentJobError('Simulated permanent failure (poison: true).');
      if (failAlways) throw new TransientJobError('Simulated transient failure (failAlways: true).');
      if (run <= failTimes)
        throw new TransientJobError(`Simulated transient failure ${run} of ${failTimes}.`);
    },
  });
}
