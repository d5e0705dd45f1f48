import { setTimeout as sleep } from 'node:timers/promises';
import type { JobRecord } from '../../src/jobs/model/jobRecord';

/**
 * Every job's record through the app's API (`GET /api/jobs/{jobId}`), `concurrency` at a time: undefined for a 404.
 * Any other answer is tried again a few times, then fails the run: a record that cannot be read proves nothing.
 */
export async function readRecords(
  baseUrl: string,
  jobIds: readonly string[],
  concurrency = 8,
): Promise<Map<string, JobRecord | undefined>> {
  const records = new Map<string, JobRecord | undefined>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < jobIds.length) {
      const jobId = jobIds[next++] as string;
      records.set(jobId, await readRecord(baseUrl, jobId));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return records;
}

async function readRecord(baseUrl: string, jobId: string): Promise<JobRecord | undefined> {
  let lastProblem = '';
  for (let attempt = 1; attempt <= 5; attempt += 1) {
    try {
      const response = await fetch(`${baseUrl}/api/jobs/${jobId}`, { signal: AbortSignal.timeout(15_000) });
      if (response.status === 200) return (await response.json()) as JobRecord;
      if (response.status === 404) return undefined;
      lastProblem = `HTTP ${response.status}: ${await response.text()}`;
    } catch (error) {
      lastProblem = String(error);
    }
    await sleep(500 * attempt);
  }
  throw new Error(`Could not read job ${jobId}: ${lastProblem}`);
}
