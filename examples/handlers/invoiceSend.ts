import { z } from 'zod';
import { PermanentJobError } from '../jobs/errors';
import { defineJobHandler } from '../jobs/jobTypes/jobHandler';

export const invoiceSendPayloadSchema = z.object({
  invoiceId: z.string().min(1).max(64),
  channel: z.enum(['email', 'post']).default('email'),
});

/** `invoice.send`: sends one invoice. Idempotent: keyed by the jobId, a second run of the job sends nothing twice. */
export function createInvoiceSendHandler() {
  return defineJobHandler({
    jobType: 'invoice.send',
    payloadSchema: invoiceSendPayloadSchema,
    async handle({ invoiceId, channel }, { job, signal, logger }) {
      // PermanentJobError is never retried (dead-lettered as Poisoned); any other error is retried with backoff.
      if (channel === 'post') throw new PermanentJobError(`Invoice ${invoiceId}: post is not supported yet.`);
      // Your call goes here, passing `signal` (aborted on timeout and on shutdown) and the jobId as idempotency key:
      // await mailer.send(invoiceId, { idempotencyKey: job.jobId, signal });
      signal.throwIfAborted();
      logger.info('Invoice sent', { invoiceId, channel, idempotencyKey: job.jobId });
    },
  });
}
