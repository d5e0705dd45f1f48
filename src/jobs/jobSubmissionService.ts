import { randomUUID } from 'node:crypto';
import { fieldErrors } from './fieldErrors';
import type { HandlerRegistry } from '../handlers/handlerRegistry';
import type { JobQueue } from '../queue/jobQueue';
import type { OutgoingJobMessage } from '../queue/outgoingJobMessage';
import { firstMessageOf } from '../queue/outgoingJobMessage';
import type { JobStore } from '../store/jobStore';
import { JobTelemetry } from '../telemetry/jobTelemetry';
import type { Telemetry } from '../telemetry/telemetry';
import { noTelemetry } from '../telemetry/telemetry';
import type { TraceContext } from '../telemetry/traceContext';
import { childSpanOf, formatTraceParent, parseTraceParent } from '../telemetry/traceContext';
import type { FieldError } from './errors';
import { ValidationError } from './errors';
import type { JobMessage } from './jobMessage';
import { isoTimestamp } from './isoTimestamp';
import { jobIdForKey } from './jobIdForKey';
import { newJobMessage } from './jobMessage';
import type { JobRecord } from './jobRecord';
import { newJobRecord } from './jobRecord';
import {
  assertFitsOneMessage,
  jobSubmissionRequestSchema,
  maxJobsPerSubmission,
} from './jobSubmissionRequest';
import type { Logger } from './logger';

export interface JobSubmissionServiceOptions {
  registry: HandlerRegistry;
  store: JobStore;
  queue: JobQueue;
  defaultMaxAttempts: number;
  logger: Logger;
  telemetry?: Telemetry;
  now?: () => Date;
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
 * recording it reserves the key), then sends them. If the send fails,
 * the records are removed again, so no job is left recorded as queued that never will run.
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
    const handler = typeof jobType === 'string' ? this.options.registry.get(jobType) : undefined;
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
    if (!parsed.success || errors.length > 0) return errors;
    const key = parsed.data.idempotencyKey ?? idempotencyKey;
    return newJobMessage({
      jobId: key ? jobIdForKey(key) : randomUUID(),
      idempotencyKey: key ?? '',
      jobType: parsed.data.jobType,
      subjectId: parsed.data.subjectId ?? '',
      correlationId: parsed.data.correlationId ?? '',
      maxAttempts: parsed.data.maxAttempts ?? this.options.defaultMaxAttempts,
      // The caller's payload, not the parsed one: the handler applies its schema's defaults again at run time.
      payload: parsed.data.payload,
      createdAt,
    });
  }

  private async enqueue(
    messages: readonly OutgoingJobMessage[],
    trace: TraceContext,
  ): Promise<SubmittedJob[]> {
    const { store, queue, logger } = this.options;
    const submitted: SubmittedJob[] = [];
    const fresh: OutgoingJobMessage[] = [];
    // One at a time, so two jobs of one batch with the same key resolve to one job.
    for (const message of messages) {
      const result = await store.create(newJobRecord(message.job, this.now()));
      if (result.created) fresh.push({ ...message, recordEtag: result.stored.etag });
      submitted.push({
        record: (result.created ? result.stored : result.existing).record,
        created: result.created,
      });
    }
    if (fresh.length === 0) return submitted;
    try {
      await queue.send(fresh);
    } catch (error) {
      await Promise.allSettled(fresh.map(({ job }) => store.remove(job.jobId)));
      throw error;
    }
    for (const { job } of fresh) {
      logger.info('Job submitted', {
        jobId: job.jobId,
        jobType: job.jobType,
        correlationId: job.correlationId,
      });
      this.events.submitted(job, trace);
    }
    return submitted;
  }
}

function traceOf(options: SubmitOptions): TraceContext {
  return parseTraceParent(options.traceParent) ?? childSpanOf(undefined);
}
