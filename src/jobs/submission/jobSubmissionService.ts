import { randomUUID } from 'node:crypto';
import { fieldErrors } from '../model/fieldErrors';
import type { HandlerRegistry } from '../jobTypes/handlerRegistry';
import type { OutgoingJobMessage } from '../model/outgoingJobMessage';
import { firstMessageOf } from '../model/outgoingJobMessage';
import type { CreateJobResult, JobStore } from '../ports/jobStore';
import type { OutboxSender } from './outboxSender';
import { JobTelemetry } from '../observability/jobTelemetry';
import type { Telemetry } from '../ports/telemetry';
import { noTelemetry } from '../ports/telemetry';
import type { TraceContext } from '../observability/traceContext';
import { childSpanOf, formatTraceParent, parseTraceParent } from '../observability/traceContext';
import type { FieldError } from '../errors';
import { ValidationError } from '../errors';
import type { JobMessage } from '../model/jobMessage';
import { isoTimestamp } from '../model/isoTimestamp';
import { jobIdForKey } from './jobIdForKey';
import { newJobMessage } from '../model/jobMessage';
import type { JobRecord } from '../model/jobRecord';
import { newJobRecord } from '../model/jobRecord';
import {
  assertFitsOneMessage,
  idempotencyKeySchema,
  jobSubmissionRequestSchema,
  maxJobsPerSubmission,
} from './jobSubmissionRequest';
import type { Logger } from '../support/logger';

export interface JobSubmissionServiceOptions {
  registry: HandlerRegistry;
  store: JobStore;
  /** Sends the messages of recorded jobs, now or once the broker answers again. */
  sender: OutboxSender;
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
 * against its handler, commits the jobs' records as Queued in one atomic write (a job with an idempotency key gets
 * the jobId that key names, so recording it reserves the key), then sends them (see `enqueue` for each failure).
 */
export class JobSubmissionService {
  private readonly now: () => Date;
  private readonly events: JobTelemetry;

  constructor(private readonly options: JobSubmissionServiceOptions) {
    this.now = options.now ?? (() => new Date());
    this.events = new JobTelemetry(options.telemetry ?? noTelemetry);
  }

  async submit(request: unknown, options: SubmitOptions = {}): Promise<SubmittedJob> {
    assertValidKey(options.idempotencyKey);
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
    assertValidKey(key);
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
   * Commits the jobs' records in one atomic write (the record is the outbox entry: accepted means recorded), then
   * sends the messages of the jobs it created. Nothing is ever taken back:
   * - the commit fails: nothing was recorded, none of the jobs will run, and the error is the answer (503); if the
   *   store cannot tell whether it applied, the error says that a repeat with the same keys finds out;
   * - the send fails: the jobs stay accepted, and the outbox sender sends them once the broker answers;
   * - we die after the commit: a repeat with the same keys reads the jobs, and the reconciler sends what is Queued.
   * A job whose key already existed is read, never written or sent again.
   */
  private async enqueue(
    messages: readonly OutgoingJobMessage[],
    trace: TraceContext,
  ): Promise<SubmittedJob[]> {
    // Two jobs of one batch with the same key are one job: the first of them is created.
    const firstOfEach = new Map<string, OutgoingJobMessage>();
    for (const message of messages)
      if (!firstOfEach.has(message.job.jobId)) firstOfEach.set(message.job.jobId, message);
    // One timestamp for the batch's records, formatted once rather than once a record.
    const now = isoTimestamp(this.now());
    const distinct = [...firstOfEach.values()];
    const results = await this.options.store.createAll(
      distinct.map((message) => ({ record: newJobRecord(message.job, now), body: message.body })),
    );
    const byJobId = new Map<string, CreateJobResult>();
    const toSend: OutgoingJobMessage[] = [];
    const created: JobRecord[] = [];
    results.forEach((result, index) => {
      const message = distinct[index] as OutgoingJobMessage;
      byJobId.set(message.job.jobId, result);
      if (!result.created) return;
      // With the record's version, the first delivery claims the job without reading its record.
      toSend.push(result.stored.etag ? { ...message, recordEtag: result.stored.etag } : message);
      created.push(result.stored.record);
    });
    const sent = await this.options.sender.send(toSend);
    for (const record of created) this.reportSubmitted(record, trace, sent === 'sent');
    return messages.map((message) => {
      const result = byJobId.get(message.job.jobId) as CreateJobResult;
      if (!result.created) return { record: result.existing.record, created: false };
      return { record: result.stored.record, created: firstOfEach.get(message.job.jobId) === message };
    });
  }

  /** `sentToQueue`: on the queue now, or waiting in the outbox sender for the broker to answer. */
  private reportSubmitted(record: JobRecord, trace: TraceContext, sentToQueue: boolean): void {
    this.options.logger.info('Job submitted', {
      jobId: record.jobId,
      jobType: record.jobType,
      correlationId: record.correlationId,
      sentToQueue,
    });
    this.events.submitted(record, trace);
  }
}

/** A request's own key obeys the rule a key in a job's body does: whatever is accepted here, the wire carries. */
function assertValidKey(key: string | undefined): void {
  if (key === undefined) return;
  const parsed = idempotencyKeySchema.safeParse(key);
  if (!parsed.success)
    throw new ValidationError(
      'Invalid idempotency key.',
      fieldErrors(parsed.error.issues, '/idempotencyKey'),
    );
}

function traceOf(options: SubmitOptions): TraceContext {
  return parseTraceParent(options.traceParent) ?? childSpanOf(undefined);
}
