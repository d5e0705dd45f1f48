import { z } from 'zod';
import { jobStatusSchema } from '../jobs/model/jobRecord';
import { jobTypeNameSchema } from '../jobs/submission/jobSubmissionRequest';
import type { JobsRuntime } from '../runtime';
import { httpFunction } from './httpFunction';
import { oneOf, queryInteger } from './queryParameters';

const listQuery = {
  status: oneOf(jobStatusSchema).optional(),
  jobType: jobTypeNameSchema.optional(),
  limit: queryInteger(1, 100).default(20),
  // Opaque here; the store checks it (a token it did not issue is a 400 naming it).
  continuationToken: z.string().max(4096).optional(),
};

/** `GET /api/jobs?status=&jobType=&limit=&continuationToken=`: jobs newest first, for operators. */
export function createListJobs({ store, logger }: Pick<JobsRuntime, 'store' | 'logger'>) {
  return httpFunction(logger, { query: listQuery }, async ({ request, query }) => {
    const page = await store.list(query);
    const next = page.continuationToken ? new URL(request.url) : undefined;
    next?.searchParams.set('continuationToken', page.continuationToken ?? '');
    return {
      status: 200,
      jsonBody: {
        jobs: page.jobs,
        continuationToken: page.continuationToken ?? null,
        next: next?.toString() ?? null,
      },
    };
  });
}
