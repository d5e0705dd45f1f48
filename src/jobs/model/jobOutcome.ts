import { z } from 'zod';

export const jobOutcomeStatusSchema = z.enum(['Completed', 'Failed', 'Poisoned']);

/** What one attempt of a job came to (ADR-004 `JobOutcome`). `Failed` is retryable; `Poisoned` is not. */
export const jobOutcomeSchema = z.object({
  jobId: z.string(),
  jobType: z.string(),
  status: jobOutcomeStatusSchema,
  durationMs: z.number().nonnegative(),
  errorMessage: z.string().nullable(),
  attempt: z.int().min(1),
  completedAt: z.iso.datetime({ offset: true }),
});

export type JobOutcome = z.output<typeof jobOutcomeSchema>;
export type JobOutcomeStatus = z.output<typeof jobOutcomeStatusSchema>;
