import { z } from 'zod';

/**
 * Why a job was dead-lettered. `InvalidFormat`, `NoHandler`, `Poisoned` and `MaxRetriesExceeded` are the codes the
 * platform's C# processor already writes, so operators read one vocabulary across both systems.
 * `MaxDeliveryCountExceeded` and `TTLExpiredException` are the broker's own: the app never dead-letters with them,
 * but a job's record takes them over when the reconciler finds the job's message dead-lettered by the broker.
 */
export const deadLetterReasonSchema = z.enum([
  'InvalidFormat',
  'NoHandler',
  'InvalidPayload',
  'Poisoned',
  'MaxRetriesExceeded',
  'MaxDeliveryCountExceeded',
  'TTLExpiredException',
]);

export type DeadLetterReason = z.output<typeof deadLetterReasonSchema>;
