import type { DeadLetterReason } from '../model/deadLetterReason';
import type { JobMessage } from '../model/jobMessage';
import type { Telemetry, TelemetryProperties } from '../ports/telemetry';
import type { TraceContext } from './traceContext';

/** Names of the custom events and metrics the app emits; the README's queries use them. */
export const jobEventNames = {
  submitted: 'JobSubmitted',
  started: 'JobStarted',
  completed: 'JobCompleted',
  retryScheduled: 'JobRetryScheduled',
  deadLettered: 'JobDeadLettered',
  replayed: 'JobReplayed',
  discarded: 'JobDiscarded',
  repaired: 'JobRepaired',
  cancelled: 'JobCancelled',
} as const;

export const jobMetricNames = {
  handlerDuration: 'JobHandlerDurationMs',
  queueLatency: 'JobQueueLatencyMs',
  attempts: 'JobAttempts',
} as const;

type JobIdentity = Pick<JobMessage, 'jobId' | 'jobType' | 'correlationId' | 'subjectId'>;

/**
 * The job lifecycle as telemetry: one event per step, with the job's identity and never its payload, plus the
 * duration, latency and attempt metrics by job type and outcome. Every method is a no-op when telemetry is off.
 */
export class JobTelemetry {
  constructor(private readonly telemetry: Telemetry) {}

  /** `false` when telemetry is off: callers skip what they would compute only for it. */
  get enabled(): boolean {
    return this.telemetry.enabled;
  }

  submitted(job: JobIdentity, trace: TraceContext | undefined): void {
    if (!this.telemetry.enabled) return;
    this.telemetry.trackEvent({ name: jobEventNames.submitted, trace, properties: propertiesOf(job, 1) });
  }

  started(
    job: JobIdentity,
    attempt: number,
    trace: TraceContext | undefined,
    queueLatencyMs: number | undefined,
  ): void {
    if (!this.telemetry.enabled) return;
    this.telemetry.trackEvent({
      name: jobEventNames.started,
      trace,
      properties: propertiesOf(job, attempt),
      measurements: queueLatencyMs === undefined ? undefined : { queueLatencyMs },
    });
    if (queueLatencyMs !== undefined)
      this.telemetry.trackMetric(jobMetricNames.queueLatency, queueLatencyMs, { jobType: job.jobType });
  }

  completed(job: JobIdentity, attempt: number, trace: TraceContext | undefined, durationMs: number): void {
    if (!this.telemetry.enabled) return;
    this.telemetry.trackEvent({
      name: jobEventNames.completed,
      trace,
      properties: propertiesOf(job, attempt),
      measurements: { durationMs },
    });
    this.ran(job, 'Completed', durationMs);
    this.ended(job, 'Completed', attempt);
  }

  /** A handler run that failed: tracked as an exception, whatever happens to the job next. */
  failed(
    job: JobIdentity,
    attempt: number,
    trace: TraceContext | undefined,
    outcome: 'Failed' | 'Poisoned',
    error: unknown,
    durationMs: number,
  ): void {
    if (!this.telemetry.enabled) return;
    const exception = error instanceof Error ? error : new Error(String(error));
    this.telemetry.trackException(exception, trace, { ...propertiesOf(job, attempt), outcome });
    this.ran(job, outcome, durationMs);
  }

  /** `decidedAt`: the retry is reported when it was decided, not after the broker confirmed the schedule. */
  retryScheduled(
    job: JobIdentity,
    attempt: number,
    trace: TraceContext | undefined,
    delayMs: number,
    error: string,
    decidedAt: Date,
  ): void {
    if (!this.telemetry.enabled) return;
    this.telemetry.trackEvent({
      name: jobEventNames.retryScheduled,
      trace,
      properties: { ...propertiesOf(job, attempt), nextAttempt: String(attempt + 1), error },
      measurements: { delayMs },
      time: decidedAt,
    });
  }

  /** `job` is undefined for a message that is not a job at all (InvalidFormat). */
  deadLettered(
    job: JobIdentity | undefined,
    attempt: number,
    trace: TraceContext | undefined,
    reason: DeadLetterReason,
    description: string,
    messageId: string | undefined,
  ): void {
    if (!this.telemetry.enabled) return;
    const identity = job ? propertiesOf(job, attempt) : {};
    this.telemetry.trackEvent({
      name: jobEventNames.deadLettered,
      trace,
      properties: { ...identity, ...(messageId ? { messageId } : {}), reason, description },
    });
    if (job) this.ended(job, 'DeadLettered', attempt);
  }

  /** An operator sent a dead-lettered job back (`reason`: why it had been dead-lettered). */
  replayed(
    job: JobIdentity,
    trace: TraceContext | undefined,
    sequenceNumber: string,
    reason: string,
    payloadCorrected: boolean,
  ): void {
    if (!this.telemetry.enabled) return;
    this.telemetry.trackEvent({
      name: jobEventNames.replayed,
      trace,
      properties: {
        ...propertiesOf(job, 1),
        sequenceNumber,
        reason,
        payloadCorrected: String(payloadCorrected),
      },
    });
  }

  /** An operator discarded a dead-lettered message; `job` is undefined when it was not a job. */
  discarded(
    job: JobIdentity | undefined,
    attempts: number,
    trace: TraceContext | undefined,
    sequenceNumber: string,
    reason: string,
  ) {
    if (!this.telemetry.enabled) return;
    const identity: TelemetryProperties = job ? propertiesOf(job, attempts) : {};
    this.telemetry.trackEvent({
      name: jobEventNames.discarded,
      trace,
      properties: { ...identity, sequenceNumber, reason },
    });
  }

  /** The job ended Cancelled: before it ran, or when the run under way when it was cancelled ended. */
  cancelled(job: JobIdentity, attempts: number, trace: TraceContext | undefined): void {
    if (!this.telemetry.enabled) return;
    this.telemetry.trackEvent({
      name: jobEventNames.cancelled,
      trace,
      properties: propertiesOf(job, attempts),
    });
    this.ended(job, 'Cancelled', attempts);
  }

  /** The reconciler repaired a job that had stopped moving (`repair` says how, `detail` what it found). */
  repaired(job: JobIdentity, attempt: number, repair: string, detail: string): void {
    if (!this.telemetry.enabled) return;
    this.telemetry.trackEvent({
      name: jobEventNames.repaired,
      trace: undefined,
      properties: { ...propertiesOf(job, attempt), repair, detail },
    });
  }

  private ran(job: JobIdentity, outcome: string, durationMs: number): void {
    this.telemetry.trackMetric(jobMetricNames.handlerDuration, durationMs, { jobType: job.jobType, outcome });
  }

  private ended(job: JobIdentity, outcome: string, attempts: number): void {
    this.telemetry.trackMetric(jobMetricNames.attempts, attempts, { jobType: job.jobType, outcome });
  }
}

function propertiesOf(job: JobIdentity, attempt: number): TelemetryProperties {
  return {
    jobId: job.jobId,
    jobType: job.jobType,
    attempt: String(attempt),
    correlationId: job.correlationId,
    subjectId: job.subjectId,
  };
}
