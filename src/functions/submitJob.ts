import { idempotencyKeySchema } from '../jobs/submission/jobSubmissionRequest';
import type { SubmittedJob } from '../jobs/submission/jobSubmissionService';
import type { JobsRuntime } from '../runtime';
import { httpFunction } from './httpFunction';
import { problem } from './httpProblem';
import { isJsonContentType, parseJsonText } from './requestInput';

/** A whole request: a full batch of small jobs fits; one job is limited further by the message size. */
export const maxRequestBytes = 1024 * 1024;

/** `POST /api/jobs`: one job or an array of up to 100. 202 when queued, 200 when the idempotency key already existed. */
export function createSubmitJob({ submission, logger }: Pick<JobsRuntime, 'submission' | 'logger'>) {
  return httpFunction(logger, {}, async ({ request, context }) => {
    const contentType = request.headers.get('content-type') ?? '';
    if (!isJsonContentType(contentType)) {
      return problem(
        415,
        'Unsupported media type',
        `Send the job as JSON with 'Content-Type: application/json' (got '${contentType || 'none'}').`,
      );
    }
    const declaredLength = Number(request.headers.get('content-length') ?? 0);
    const text = declaredLength > maxRequestBytes ? '' : await request.text();
    if (declaredLength > maxRequestBytes || Buffer.byteLength(text) > maxRequestBytes) {
      return problem(413, 'Payload too large', `A request body may be at most ${maxRequestBytes} bytes.`);
    }
    const body = parseJsonText(text);
    if (!body.ok) return body.response;

    const header = request.headers.get('idempotency-key');
    const key = header === null ? undefined : idempotencyKeySchema.safeParse(header);
    if (key && !key.success) {
      return problem(400, 'Invalid Idempotency-Key', 'The Idempotency-Key header is invalid.', {
        errors: key.error.issues.map(({ message }) => ({ field: 'Idempotency-Key', message })),
      });
    }
    const idempotencyKey = key?.data;
    const traceParent = context.traceContext?.traceParent ?? undefined;
    const jobsUrl = new URL('/api/jobs/', request.url);
    if (Array.isArray(body.value)) {
      const results = await submission.submitBatch(body.value, { idempotencyKey, traceParent });
      return {
        status: results.some((result) => result.created) ? 202 : 200,
        jsonBody: results.map((result) => ({ ...toView(result, jobsUrl), created: result.created })),
      };
    }
    const result = await submission.submit(body.value, { idempotencyKey, traceParent });
    const view = toView(result, jobsUrl);
    return { status: result.created ? 202 : 200, headers: { Location: view.statusUrl }, jsonBody: view };
  });
}

function toView({ record }: SubmittedJob, jobsUrl: URL) {
  return { jobId: record.jobId, status: record.status, statusUrl: new URL(record.jobId, jobsUrl).toString() };
}
