import { z } from 'zod';

/**
 * Why a job was dead-lettered. `InvalidFormat`, `NoHandler`, `Poisoned` and `MaxRetriesExceeded` are the codes the
 * platform's C# processor already writes, so operators read one vocabulary across both systems.
 */
export const deadLetterReasonSchema = z.enum([
  'InvalidFormat',
  'NoHandler',
  'InvalidPayload',
  'Poisoned',
  'MaxRetriesExceeded',
]);

export type DeadLetterReason = z.output<typeof deadLetterReasonSchema>;
