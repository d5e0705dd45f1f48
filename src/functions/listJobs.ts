import { z } from 'zod';
import { jobStatusSchema } from '../jobs/model/jobRecord';
import type { JobsRuntime } from '../runtime';
import { httpFunction } from './httpFunction';
import { noPathParameters, parseQuery } from './requestInput';

const listQuerySchema = z.strictObject({
  status: jobStatusSchema.optional(),
  jobType: z.string().trim().min(1).max(128).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  continuationToken: z.string().min(1).max(4096).optional(),
});

/** `GET /api/jobs?status=&jobType=&limit=&continuationToken=`: jobs newest first, for operators. */
export function createListJobs({ store, logger }: Pick<JobsRuntime, 'store' | 'logger'>) {
  return httpFunction(logger, noPathParameters, async ({ request }) => {
    const query = parseQuery(request, listQuerySchema);
    if (!query.ok) return query.response;
    const page = await store.list(query.value);
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
