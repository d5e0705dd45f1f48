import { randomUUID } from 'node:crypto';
import { fieldErrors } from './fieldErrors';
import type { HandlerRegistry } from '../handlers/handlerRegistry';
import type { JobQueue } from './jobQueue';
import type { OutgoingJobMessage } from './outgoingJobMessage';
import { firstMessageOf } from './outgoingJobMessage';
import type { CreateJobResult, JobStore, StoredJob } from './jobStore';
import { JobTelemetry } from '../telemetry/jobTelemetry';
import type { Telemetry } from '../telemetry/telemetry';
import { noTelemetry } from '../telemetry/telemetry';
import type { TraceContext } from '../telemetry/traceContext';
import { childSpanOf, formatTraceParent, parseTraceParent } from '../telemetry/traceContext';
import type { FieldError } from './errors';
import { InfrastructureError, ValidationError, errorMessage } from './errors';
import type { JobMessage } from './jobMessage';
import { isoTimestamp } from './isoTimestamp';
import { jobIdForKey } from './jobIdForKey';
import { newJobMessage, parseJobMessage } from './jobMessage';
import type { JobRecord } from './jobRecord';
import { newJobRecord } from './jobRecord';
import {
  assertFitsOneMessage,
  jobSubmissionRequestSchema,
  maxJobsPerSubmission,
} from './jobSubmissionRequest';
import type { Logger } from './logger';
import { mapLimited } from './mapLimited';
import { untilAvailable } from './untilAvailable';

export interface JobSubmissionServiceOptions {
  registry: HandlerRegistry;
  store: JobStore;
  queue: JobQueue;
  logger: Logger;
  telemetry?: Telemetry;
  now?: () => Date;
  /** Aborted when the app stops: a refused submission's cleanup still trying in the background gives up then. */
  shutdownSignal?: AbortSignal;
}

export interface SubmittedJob {
  readonly record: JobRecord;
  /** `false` when the idempotency key named a job that already existed: nothing new was queued. */
  readonly created: boolean;
}

export interface SubmitOptions {
  /** Applies to a single job; in a batch, item `i` without its own key gets `<key>:<i>`. */
  idempotencyKey?: string;
  /**
   * The submitting operation's W3C `traceparent` (the Functions invocation's trace context): every message carries
   * it, so processing continues that trace. Without it, the submission starts a new trace.
   */
  traceParent?: string;
}

/**
 * The one way jobs enter the system, for the HTTP function and any code that submits jobs: validates every job
 * against its handler, records the jobs as Queued (a job with an idempotency key gets the jobId that key names, so
 * recording it reserves the key), then sends them in one batch (see `enqueue` for what happens when a step fails).
 */
export class JobSubmissionService {
  private readonly now: () => Date;
  private readonly events: JobTelemetry;

  constructor(private readonly options: JobSubmissionServiceOptions) {
    this.now = options.now ?? (() => new Date());
    this.events = new JobTelemetry(options.telemetry ?? noTelemetry);
  }

  async submit(request: unknown, options: SubmitOptions = {}): Promise<SubmittedJob> {
    const trace = traceOf(options);
    const messages = this.validate(
      [request],
      trace,
      (_, field) => field,
      () => options.idempotencyKey,
    );
    const [submitted] = await this.enqueue(messages, trace);
    return submitted as SubmittedJob;
  }

  async submitBatch(requests: readonly unknown[], options: SubmitOptions = {}): Promise<SubmittedJob[]> {
    if (requests.length === 0 || requests.length > maxJobsPerSubmission) {
      throw new ValidationError('Invalid batch.', [
        { field: '', message: `A batch holds 1 to ${maxJobsPerSubmission} jobs (got ${requests.length}).` },
      ]);
    }
    const key = options.idempotencyKey;
    const trace = traceOf(options);
    const messages = this.validate(
      requests,
      trace,
      (index, field) => `/${index}${field}`,
      (index) => (key === undefined ? undefined : `${key}:${index}`),
    );
    return this.enqueue(messages, trace);
  }

  private validate(
    requests: readonly unknown[],
    trace: TraceContext,
    pointer: (index: number, field: string) => string,
    keyFor: (index: number) => string | undefined,
  ): OutgoingJobMessage[] {
    // One submission, one timestamp: every job of a batch carries the same createdAt.
    const createdAt = isoTimestamp(this.now());
    const errors: FieldError[] = [];
    const jobs: JobMessage[] = [];
    requests.forEach((request, index) => {
      const result = this.toJob(request, createdAt, keyFor(index));
      if (Array.isArray(result))
        errors.push(...result.map((error) => ({ ...error, field: pointer(index, error.field) })));
      else jobs.push(result);
    });
    if (errors.length > 0) throw new ValidationError('One or more jobs are invalid.', errors);
    const traceParent = formatTraceParent(trace);
    const messages = jobs.map((job) => firstMessageOf(job, traceParent));
    for (const [index, message] of messages.entries()) {
      assertFitsOneMessage(message.body, `Job ${pointer(index, '') || 'in the request'}`);
    }
    return messages;
  }

  /** The job a request describes, or every field error in it (the payload is checked even when others failed). */
  private toJob(
    request: unknown,
    createdAt: string,
    idempotencyKey: string | undefined,
  ): JobMessage | FieldError[] {
    const parsed = jobSubmissionRequestSchema.safeParse(request);
    const fields = (request ?? {}) as { jobType?: unknown; payload?: unknown };
    const jobType = parsed.success ? parsed.data.jobType : fields.jobType;
    const { registry } = this.options;
    const handler = typeof jobType === 'string' ? registry.get(jobType) : undefined;
    const policy = typeof jobType === 'string' ? registry.policyOf(jobType) : undefined;
    const payload = handler?.payloadSchema.safeParse(fields.payload ?? {});

    const errors = parsed.success ? [] : fieldErrors(parsed.error.issues);
    if (parsed.success && !handler) {
      const known = this.options.registry.jobTypes().join(', ');
      errors.push({
        field: '/jobType',
        message: `Unknown job type '${parsed.data.jobType}' (known: ${known}).`,
      });
    }
    if (payload && !payload.success) errors.push(...fieldErrors(payload.error.issues, '/payload'));
    const maxAttempts = parsed.success ? parsed.data.maxAttempts : undefined;
    if (policy?.maxAttemptsIsBound && maxAttempts !== undefined && maxAttempts > policy.maxAttempts) {
      errors.push({
        field: '/maxAttempts',
        message: `Jobs of type '${String(jobType)}' allow at most ${policy.maxAttempts} attempts.`,
      });
    }
    if (!parsed.success || !policy || errors.length > 0) return errors;
    const key = parsed.data.idempotencyKey ?? idempotencyKey;
    return newJobMessage({
      jobId: key ? jobIdForKey(key) : randomUUID(),
      idempotencyKey: key ?? '',
      jobType: parsed.data.jobType,
      subjectId: parsed.data.subjectId ?? '',
      correlationId: parsed.data.correlationId ?? '',
      maxAttempts: maxAttempts ?? policy.maxAttempts,
      // The caller's payload, not the parsed one: the handler applies its schema's defaults again at run time.
      payload: parsed.data.payload,
      createdAt,
    });
  }

  /**
   * Records the jobs, then sends them, all or nothing in effect: a job is on the queue before any caller hears it
   * was accepted, and a refused request leaves nothing that can run. Failure windows and their answers:
   * - the send fails: the records this request created are removed, each only if still as created (never one
   *   another caller was told exists); a message whose send "failed" but went through finds no record and is
   *   dropped by the dispatcher (it carries the record's ETag, which says our submission sent it);
   * - the removal fails too (storage down as well): it is tried again in the background; should the process stop or
   *   die first, the reconciler sends the job, the only case where a refused job still runs;
   * - we die between recording and sending: nobody was told anything; a repeat with the same key sends it, and so
   *   does the reconciler, in time.
   */
  private async enqueue(
    messages: readonly OutgoingJobMessage[],
    trace: TraceContext,
  ): Promise<SubmittedJob[]> {
    const { store, queue } = this.options;
    const created: StoredJob[] = [];
    // Creates that failed may have been applied, their answers lost: a refusal must undo them as well.
    const uncertain = new Map<string, { record: JobRecord; body: string }>();
    let submitted: SubmittedJob[] = [];
    try {
      // The records of a batch's jobs at once (a batch of 100 would otherwise wait 100 round trips); two jobs of
      // one batch with the same key are one job, created once.
      const firstOfEach = new Map<string, OutgoingJobMessage>();
      for (const message of messages)
        if (!firstOfEach.has(message.job.jobId)) firstOfEach.set(message.job.jobId, message);
      const results = new Map<string, CreateJobResult>();
      await mapLimited([...firstOfEach.values()], createConcurrency, async (message) => {
        const record = newJobRecord(message.job, this.now());
        uncertain.set(record.jobId, { record, body: message.body });
        const result = await store.create(record, message.body);
        uncertain.delete(record.jobId);
        if (result.created) created.push(result.stored);
        results.set(record.jobId, result);
      });
      const toSend: OutgoingJobMessage[] = [];
      const resent: StoredJob[] = [];
      submitted = messages.map((message) => {
        const result = results.get(message.job.jobId) as CreateJobResult;
        const first = firstOfEach.get(message.job.jobId) === message;
        if (result.created) {
          if (first) toSend.push({ ...message, recordEtag: result.stored.etag });
          return { record: result.stored.record, created: first };
        }
        if (first && mayNotHaveBeenSent(result.existing.record)) {
          toSend.push(resendOf(result.existing, message));
          resent.push(result.existing);
        }
        return { record: result.existing.record, created: false };
      });
      await mapLimited(resent, createConcurrency, (existing) => this.holdForResend(existing));
      if (toSend.length > 0) await queue.send(toSend);
    } catch (error) {
      const taken = await this.removeRefused(created, [...uncertain.values()]);
      // The send said it failed, yet a dispatcher has already taken up every job it carried: it went through.
      if (!taken) throw error;
      this.options.logger.warn('The send reported a failure, but its jobs are already being processed', {
        jobIds: created.map(({ record }) => record.jobId),
        error: errorMessage(error),
      });
    }
    for (const { record } of created) this.reportSubmitted(record, trace);
    return submitted;
  }

  private reportSubmitted(record: JobRecord, trace: TraceContext): void {
    this.options.logger.info('Job submitted', {
      jobId: record.jobId,
      jobType: record.jobType,
      correlationId: record.correlationId,
    });
    this.events.submitted(record, trace);
  }

  /**
   * Removes the records of a refused submission, each only if nobody has touched it since. The uncertain create is
   * made again with the same record: the store recognises its own write, so `created` says the first was applied
   * (or this one was), and either way it is ours to remove.
   * @returns `true` when every record was there and had changed since (a dispatcher claimed it): the send that
   *   reported a failure had gone through after all, and nothing was removed.
   */
  private async removeRefused(
    created: readonly StoredJob[],
    uncertain: readonly { record: JobRecord; body: string }[],
  ): Promise<boolean> {
    const { store, logger, shutdownSignal } = this.options;
    const removals = created.map(({ record, etag }) => ({
      jobId: record.jobId,
      remove: () => this.takeBack(record.jobId, etag),
    }));
    for (const { record, body } of uncertain) {
      removals.push({
        jobId: record.jobId,
        remove: async () => {
          const again = await store.create(record, body);
          // Not created: another writer's record stands there (a later request with the key), never ours to remove.
          return again.created ? this.takeBack(record.jobId, again.stored.etag) : ('takenUp' as const);
        },
      });
    }
    const results = await Promise.allSettled(removals.map(({ remove }) => remove()));
    const stuck = removals.filter((_, index) => results[index]?.status === 'rejected');
    if (stuck.length === 0) {
      const taken = (result: PromiseSettledResult<TakeBack>) =>
        result.status === 'fulfilled' && result.value === 'takenUp';
      return uncertain.length === 0 && created.length > 0 && results.every(taken);
    }
    const jobIds = stuck.map(({ jobId }) => jobId);
    logger.warn('Could not remove the records of a refused submission; trying again in the background', {
      jobIds,
    });
    // The caller has its answer; the removal goes on without holding the request.
    void Promise.all(
      stuck.map(({ remove }) =>
        untilAvailable(remove, { toleranceMs: backgroundRemovalMs, signal: shutdownSignal }),
      ),
    ).catch((error: unknown) =>
      logger.error('Records of a refused submission are left; the reconciler will send their jobs', {
        jobIds,
        error: errorMessage(error),
      }),
    );
    return false;
  }

  /**
   * Writes the record of a job about to be sent again as it is: an earlier refused request's cleanup, which may still
   * be trying in the background, removes only the version that request created, so it now leaves the job alone. A
   * record that changed meanwhile (a dispatcher took the job up, or the cleanup won) makes this request a 503: its
   * retry sees the job as it now stands.
   */
  private async holdForResend({ record, etag }: StoredJob): Promise<void> {
    const held = { ...record, updatedAt: isoTimestamp(this.now()) };
    if ((await this.options.store.replace(held, etag)) === undefined) {
      throw new InfrastructureError(
        'StoreUnavailable',
        `Job ${record.jobId} changed while it was being submitted again; try again.`,
      );
    }
  }

  /**
   * Takes back one record of a refused submission: removes it if it is still as created. Otherwise a dispatcher took
   * the job up (the send went through after all), or a cancel landed between the create and the send: then the record
   * stays, so the cancel's answer holds for any later request with the key, and the job never runs.
   */
  private async takeBack(jobId: string, etag: string): Promise<TakeBack> {
    const { store } = this.options;
    if (await store.remove(jobId, etag)) return 'removed';
    const latest = await store.get(jobId);
    if (!latest) return 'removed';
    return latest.record.status === 'Cancelled' && latest.record.attempt === 0 ? 'cancelled' : 'takenUp';
  }
}

/** What became of one record a refused submission tried to take back. */
type TakeBack = 'removed' | 'takenUp' | 'cancelled';

/** Records of one batch created at once, at most. */
const createConcurrency = 16;

/** How long a refused submission's records are tried to be removed in the background. */
const backgroundRemovalMs = 600_000;

/**
 * A repeat of an idempotency key whose job is still Queued in its first cycle: the first submission may have died,
 * or failed, before its send. The job is sent again under the same message id, so if it was sent, the broker drops
 * the copy. No record ETag goes with it: should the first request's failed send remove the record, the dispatcher
 * recreates it from this message rather than take it for a refused submission's.
 */
function mayNotHaveBeenSent(record: JobRecord): boolean {
  return record.status === 'Queued' && record.cycle === 1 && record.attempt === 0;
}

function resendOf(existing: StoredJob, repeat: OutgoingJobMessage): OutgoingJobMessage {
  const body = existing.body;
  if (body === undefined || body === repeat.body) return repeat;
  // The job as first submitted, not the repeat's payload: the key names that job.
  const parsed = parseJobMessage(body);
  return parsed.ok ? firstMessageOf(parsed.job, repeat.traceParent) : repeat;
}

function traceOf(options: SubmitOptions): TraceContext {
  return parseTraceParent(options.traceParent) ?? childSpanOf(undefined);
}
