import { setTimeout as sleep } from 'node:timers/promises';
import type { PlannedJob, PlannedSubmission, Workload } from './planWorkload';
import type { SeededRandom } from './seededRandom';
import type { SubmitTry } from './submitWithRetries';
import { cancelWithRetries, submitWithRetries } from './submitWithRetries';

/** What the app told the clients about one job, over every submission that carried it. */
export interface JobSubmissions {
  readonly job: PlannedJob;
  /** How it was sent: `single×3 concurrent`, `batch of 5 impatient`, … */
  readonly sentAs: string;
  /** Every try of every request that carried the job, in completion order. */
  readonly tries: SubmitTry[];
  /** For each 2xx answer: the jobId it named and whether it said the job was created then. */
  readonly answers: { jobId: string; created: boolean }[];
  /** Every try of the client's cancel of it (`POST /api/jobs/{jobId}/cancel`), when one was planned. */
  readonly cancels: SubmitTry[];
}

/**
 * How the clients must see a job. `accepted`: some answer was 2xx, so it must run to the end. `refused`: every try
 * was answered with a refusal or never reached the app, so it must leave no trace. `indeterminate`: some try may
 * have been processed without an answer; it may exist or not, but if it exists it must run to the end.
 */
export type ClientVerdict = 'accepted' | 'refused' | 'indeterminate';

export function clientVerdict({ tries, answers }: JobSubmissions): ClientVerdict {
  if (answers.length > 0) return 'accepted';
  return tries.every((attempt) => attempt.kind !== 'indeterminate' && !outcomeUnknown(attempt))
    ? 'refused'
    : 'indeterminate';
}

/** A 503 whose problem document says the store did not answer whether the request was recorded. */
function outcomeUnknown(attempt: SubmitTry): boolean {
  return (
    attempt.kind === 'answered' &&
    typeof attempt.body === 'object' &&
    attempt.body !== null &&
    (attempt.body as { outcome?: unknown }).outcome === 'unknown'
  );
}

export interface WorkloadRunOptions {
  /** Requests in flight at most. */
  concurrency: number;
  random: SeededRandom;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Sends the workload's submissions at their planned times, at most `concurrency` at once, each to one of the app
 * instances at `baseUrls` in turn; what each job was told.
 */
export async function runWorkload(
  baseUrls: readonly string[],
  { jobs, submissions }: Workload,
  { concurrency, random, onProgress }: WorkloadRunOptions,
): Promise<Map<string, JobSubmissions>> {
  const byKey = new Map<string, JobSubmissions>(
    jobs.map((job) => [job.key, { job, sentAs: '', tries: [], answers: [], cancels: [] }]),
  );
  const started = Date.now();
  const slots = new Slots(concurrency);
  const running = new Set<Promise<void>>();
  let done = 0;
  for (const [index, submission] of submissions.entries()) {
    const wait = started + submission.startAtMs - Date.now();
    if (wait > 0) await sleep(wait);
    await slots.take();
    // Each submission draws from its own stream: completion order varies from run to run, the draws must not.
    const baseUrl = baseUrls[index % baseUrls.length] as string;
    const task = submit(baseUrl, submission, byKey, random.fork(`submission-${index}`)).finally(() => {
      slots.give();
      running.delete(task);
      done += 1;
      onProgress?.(done, submissions.length);
    });
    running.add(task);
  }
  await Promise.all(running);
  return byKey;
}

async function submit(
  baseUrl: string,
  submission: PlannedSubmission,
  byKey: Map<string, JobSubmissions>,
  random: SeededRandom,
): Promise<void> {
  const policy = { patient: submission.patient, random };
  const sentAs = describeSubmission(submission);
  const jobs = submission.kind === 'batch' ? submission.jobs : [submission.job];
  for (const job of jobs) {
    const entry = byKey.get(job.key);
    if (entry) byKey.set(job.key, { ...entry, sentAs });
  }
  // Cancels race the submission itself: one may arrive before the job exists (404), while it runs, or after.
  const cancels = jobs.map(async (job) => {
    if (job.cancelAfterMs === undefined) return;
    await sleep(job.cancelAfterMs);
    const tries = await cancelWithRetries(baseUrl, job.jobId, {
      patient: true,
      random: random.fork(`cancel-${job.index}`),
    });
    byKey.get(job.key)?.cancels.push(...tries);
  });
  try {
    await submitJobs(baseUrl, submission, byKey, policy);
  } finally {
    await Promise.all(cancels);
  }
}

async function submitJobs(
  baseUrl: string,
  submission: PlannedSubmission,
  byKey: Map<string, JobSubmissions>,
  policy: { patient: boolean; random: SeededRandom },
): Promise<void> {
  const { random } = policy;
  if (submission.kind === 'batch') {
    const tries = await submitWithRetries(
      baseUrl,
      submission.jobs.map((job) => job.request),
      policy,
    );
    submission.jobs.forEach((job, index) => record(byKey, job, tries, (body) => batchItem(body, index)));
    return;
  }
  const { job, copies, concurrent } = submission;
  const sendCopy = async (): Promise<void> => {
    const tries = await submitWithRetries(baseUrl, job.request, policy);
    record(byKey, job, tries, singleItem);
  };
  if (concurrent) {
    await Promise.all(Array.from({ length: copies }, sendCopy));
    return;
  }
  for (let copy = 0; copy < copies; copy += 1) {
    if (copy > 0) await sleep(random.int(0, 300));
    await sendCopy();
  }
}

function record(
  byKey: Map<string, JobSubmissions>,
  job: PlannedJob,
  tries: readonly SubmitTry[],
  itemOf: (body: unknown, status: number) => { jobId: string; created: boolean } | undefined,
): void {
  const entry = byKey.get(job.key);
  if (!entry) return;
  for (const attempt of tries) {
    entry.tries.push(attempt);
    if (attempt.kind !== 'answered' || attempt.status < 200 || attempt.status > 299) continue;
    // A 2xx without a readable item still accepted the job: it is recorded as naming no jobId.
    entry.answers.push(
      itemOf(attempt.body, attempt.status) ?? { jobId: '(unreadable answer)', created: false },
    );
  }
}

function describeSubmission(submission: PlannedSubmission): string {
  const patience = submission.patient ? '' : ' impatient';
  if (submission.kind === 'batch') return `batch of ${submission.jobs.length}${patience}`;
  return `single×${submission.copies}${submission.concurrent ? ' concurrent' : ''}${patience}`;
}

function singleItem(body: unknown, status: number): { jobId: string; created: boolean } | undefined {
  const jobId = (body as { jobId?: unknown } | undefined)?.jobId;
  return typeof jobId === 'string' ? { jobId, created: status === 202 } : undefined;
}

function batchItem(body: unknown, index: number): { jobId: string; created: boolean } | undefined {
  const item = Array.isArray(body) ? (body[index] as { jobId?: unknown; created?: unknown }) : undefined;
  return typeof item?.jobId === 'string' ? { jobId: item.jobId, created: item.created === true } : undefined;
}

/** A counting semaphore. */
class Slots {
  private readonly waiting: (() => void)[] = [];

  constructor(private free: number) {}

  async take(): Promise<void> {
    if (this.free > 0) {
      this.free -= 1;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  give(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free += 1;
  }
}
