import type { JobRecord } from '../../src/jobs/model/jobRecord';
import { isTerminalJobStatus } from '../../src/jobs/model/jobRecord';
import { waitFor } from './waitFor';

/** `POST /api/jobs` with a JSON body (one job or a batch), as a client would; the answer as it came. */
export function postJobs(
  baseUrl: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${baseUrl}/api/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

/** Submits one job, expecting `202`; its job id. */
export async function submitJob(
  baseUrl: string,
  job: unknown,
  headers: Record<string, string> = {},
): Promise<string> {
  const response = await postJobs(baseUrl, job, headers);
  expect(response.status).toBe(202);
  return ((await response.json()) as { jobId: string }).jobId;
}

/** `GET /api/jobs/{jobId}`: the record, or undefined when the answer is anything but `200`. */
export async function fetchJobRecord(baseUrl: string, jobId: string): Promise<JobRecord | undefined> {
  const response = await fetch(`${baseUrl}/api/jobs/${jobId}`);
  return response.status === 200 ? ((await response.json()) as JobRecord) : undefined;
}

/** `GET /api/jobs/{jobId}`, expecting `200`. */
export async function getJobRecord(baseUrl: string, jobId: string): Promise<JobRecord> {
  const response = await fetch(`${baseUrl}/api/jobs/${jobId}`);
  expect(response.status).toBe(200);
  return (await response.json()) as JobRecord;
}

/**
 * Polls the job's record over HTTP until `accept` takes it. `read` is how each poll reads it: by default an answer
 * other than `200` is polled again; pass `getJobRecord` to fail on one instead.
 */
export function jobRecordWhen(
  baseUrl: string,
  jobId: string,
  accept: (record: JobRecord) => boolean,
  {
    timeoutMs = 20_000,
    description = `job ${jobId}`,
    read = fetchJobRecord,
  }: {
    timeoutMs?: number;
    description?: string;
    read?: (baseUrl: string, jobId: string) => Promise<JobRecord | undefined>;
  } = {},
): Promise<JobRecord> {
  return waitFor(
    async () => {
      const record = await read(baseUrl, jobId);
      return record && accept(record) ? record : undefined;
    },
    { timeoutMs, intervalMs: 25, description },
  );
}

/** A job that will not run again: completed, dead-lettered or cancelled. */
export const isSettled = (record: JobRecord): boolean => isTerminalJobStatus(record.status);
