import { jobIdForKey } from '../../src/jobs/submission/jobIdForKey';
import type { SeededRandom } from './seededRandom';

/** What a soak job asks `diagnostics.simulate` to do, and so what its record must end up saying. */
export type JobKind = 'quick' | 'slow' | 'failTimes' | 'failAlways' | 'poison';

export interface SimulatePayload {
  durationMs?: number;
  failTimes?: number;
  failAlways?: boolean;
  poison?: boolean;
}

/** One logical job: every submission of it carries its idempotency key, so it names one jobId however often sent. */
export interface PlannedJob {
  readonly index: number;
  readonly key: string;
  readonly jobId: string;
  readonly kind: JobKind;
  readonly payload: SimulatePayload;
  /** Effective: the app's default (`defaultMaxAttempts`) when the request leaves it out. */
  readonly maxAttempts: number;
  /** The `POST /api/jobs` body (or batch item). */
  readonly request: Readonly<Record<string, unknown>>;
  /** When set, a client cancels the job this long after its submission started: queued, running, retrying or done. */
  readonly cancelAfterMs?: number;
}

/**
 * One client's work: a job sent `copies` times with the same key (at once or one after another; now and then a
 * burst of 10 to 30 at once), or a batch.
 */
export type PlannedSubmission =
  | {
      readonly kind: 'single';
      readonly job: PlannedJob;
      readonly copies: number;
      readonly concurrent: boolean;
      /** A patient client retries refusals and errors; an impatient one takes the first answer. */
      readonly patient: boolean;
      /** When to start, from the start of the run: the workload is spread out so faults land in it. */
      readonly startAtMs: number;
    }
  | {
      readonly kind: 'batch';
      readonly jobs: readonly PlannedJob[];
      readonly patient: boolean;
      readonly startAtMs: number;
    };

export interface Workload {
  readonly jobs: readonly PlannedJob[];
  readonly submissions: readonly PlannedSubmission[];
}

export interface WorkloadOptions {
  jobs: number;
  /** Jobs per second the submissions are paced at. */
  rate: number;
  /** The app's `Jobs__DefaultMaxAttempts`. */
  defaultMaxAttempts: number;
  /** Makes keys unique per run, so logs from different runs never mix up. */
  keyPrefix: string;
}

// A tenth of the jobs is cancelled, at a time that lands in each of their states.
const cancelShare = 0.1;
const maxCancelAfterMs = 800;

const kindWeights: Readonly<Record<JobKind, number>> = {
  quick: 45,
  slow: 15,
  failTimes: 20,
  failAlways: 10,
  poison: 10,
};

// Well inside the handler timeout the soak runs with, so a slow job never times out for being slow.
const maxSlowDurationMs = 400;

/** The seeded mix of jobs and the submissions that carry them. */
export function planWorkload(random: SeededRandom, options: WorkloadOptions): Workload {
  const jobs: PlannedJob[] = [];
  const submissions: PlannedSubmission[] = [];
  const startAtMs = () => Math.round((jobs.length / options.rate) * 1000);
  const nextJob = () => planJob(random, jobs.length, options);
  while (jobs.length < options.jobs) {
    const patient = random.chance(0.9);
    const at = startAtMs();
    if (random.chance(0.12) && options.jobs - jobs.length >= 2) {
      const size = Math.min(random.int(2, 8), options.jobs - jobs.length);
      const batch = Array.from({ length: size }, () => {
        const job = nextJob();
        jobs.push(job);
        return job;
      });
      submissions.push({ kind: 'batch', jobs: batch, patient, startAtMs: at });
      continue;
    }
    const job = nextJob();
    jobs.push(job);
    // Now and then a burst of one key at once (a client library retrying in parallel, a double-click).
    const burst = random.chance(0.01);
    const repeated = burst || random.chance(0.15);
    submissions.push({
      kind: 'single',
      job,
      copies: burst ? random.int(10, 30) : repeated ? random.int(2, 4) : 1,
      concurrent: burst || (repeated && random.chance(0.5)),
      patient,
      startAtMs: at,
    });
  }
  return { jobs, submissions };
}

function planJob(random: SeededRandom, index: number, options: WorkloadOptions): PlannedJob {
  const key = `${options.keyPrefix}-${index}`;
  const kind = random.weighted(kindWeights);
  let payload: SimulatePayload;
  let maxAttempts = options.defaultMaxAttempts;
  switch (kind) {
    case 'quick':
      payload = random.chance(0.5) ? {} : { durationMs: random.int(0, 20) };
      break;
    case 'slow':
      payload = { durationMs: random.int(100, maxSlowDurationMs) };
      break;
    case 'failTimes': {
      const failTimes = random.int(1, 2);
      payload = { failTimes, durationMs: random.int(0, 50) };
      // Mostly enough attempts to get through; sometimes exactly as many as failures, to exhaust them.
      maxAttempts = failTimes + random.pick([0, 1, 1, 2]);
      break;
    }
    case 'failAlways':
      payload = { failAlways: true };
      maxAttempts = random.int(1, 3);
      break;
    case 'poison':
      payload = { poison: true, durationMs: random.int(0, 50) };
      break;
  }
  const request: Record<string, unknown> = { jobType: 'diagnostics.simulate', payload, idempotencyKey: key };
  // The default is left out half the time, so the app's own default is exercised too.
  if (maxAttempts !== options.defaultMaxAttempts || random.chance(0.5)) request.maxAttempts = maxAttempts;
  const cancelAfterMs = random.chance(cancelShare) ? random.int(0, maxCancelAfterMs) : undefined;
  return {
    index,
    key,
    jobId: jobIdForKey(key),
    kind,
    payload,
    maxAttempts,
    request,
    ...(cancelAfterMs === undefined ? {} : { cancelAfterMs }),
  };
}
