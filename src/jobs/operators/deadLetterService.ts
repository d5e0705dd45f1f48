import type { HandlerRegistry } from '../jobTypes/handlerRegistry';
import type { DeadLetterEntry, DeadLetterQueue, LockedDeadLetter } from '../ports/deadLetterQueue';
import type { JobQueue } from '../ports/jobQueue';
import { firstMessageOf } from '../model/outgoingJobMessage';
import type { JobStore, StoredJob } from '../ports/jobStore';
import {
  ConflictError,
  NotFoundError,
  ValidationError,
  errorMessage,
  isInfrastructureError,
  isJobsError,
} from '../errors';
import { fieldErrors } from '../model/fieldErrors';
import type { JobMessage, JobMessageParseResult } from '../model/jobMessage';
import { parseJobMessage } from '../model/jobMessage';
import type { DeadLetterAction, JobRecord } from '../model/jobRecord';
import { newJobRecord } from '../model/jobRecord';
import type { JobEvent, Transition } from '../model/jobTransitions';
import { transition } from '../model/jobTransitions';
import { changeRecord } from '../support/changeRecord';
import { assertFitsOneMessage } from '../submission/jobSubmissionRequest';
import type { Logger } from '../support/logger';
import { mapLimited } from '../support/mapLimited';
import { JobTelemetry } from '../observability/jobTelemetry';
import type { Telemetry } from '../ports/telemetry';
import { noTelemetry } from '../ports/telemetry';
import { continueTrace } from '../observability/traceContext';

export interface DeadLetterServiceOptions {
  deadLetters: DeadLetterQueue;
  /** Where replays are sent: the job queue. */
  queue: Pick<JobQueue, 'send'>;
  store: JobStore;
  registry: HandlerRegistry;
  logger: Logger;
  /** Replays and discards are job events too: in the trace the dead-lettered message carries. */
  telemetry?: Telemetry;
  /** Most messages one listing or bulk replay reads from the sub-queue (5000 by default). */
  scanLimit?: number;
  now?: () => Date;
}

/** One dead-lettered message as operators see it. `jobId` and `jobType` are null when the body is not a job. */
export interface DeadLetterItem {
  sequenceNumber: string;
  messageId: string;
  jobId: string | null;
  jobType: string | null;
  /** Why it was dead-lettered; in `host` settlement the reason recorded for the job, not the broker's. */
  reason: string;
  description: string;
  /** Handler runs recorded for the job (0 when it has no record). */
  attempts: number;
  deadLetteredAt: string | null;
}

/** Items one listing returns: `limit` defaults to and is capped at these, on every entry point. */
export const deadLetterListLimit = { default: 100, max: 1000 } as const;

export interface DeadLetterListQuery {
  limit: number;
  jobType?: string;
  reason?: string;
}

export interface DeadLetterListing {
  /** Oldest first, filtered, at most `limit`. */
  items: DeadLetterItem[];
  /** Over every message read, before the filters and the limit. */
  counts: { byReason: Record<string, number>; byJobType: Record<string, number> };
  /** Messages read from the sub-queue. */
  scanned: number;
  /** Messages read that pass the filters. */
  matched: number;
  /** The sub-queue holds more than the scan limit: counts and items cover the oldest messages only. */
  truncated: boolean;
}

export interface ReplayOptions {
  /** A corrected payload, validated against the handler's schema before anything is changed. */
  payload?: unknown;
}

export interface ReplayResult {
  sequenceNumber: string;
  jobId: string;
  /** The id of the message sent. */
  messageId: string;
  payloadCorrected: boolean;
  /** `false` when the job was sent but the dead-lettered copy could not be removed (replaying it again is safe). */
  removedFromDeadLetterQueue: boolean;
}

export interface DeadLetterFilter {
  reason?: string;
  jobType?: string;
}

/** A message a bulk operation could not act on, and why (`NotAttempted` once the queue or store was unavailable). */
export interface BulkFailure {
  sequenceNumber: string;
  jobId: string | null;
  status: 'failed';
  code: string;
  error: string;
}

export type BulkReplayItem =
  { sequenceNumber: string; jobId: string | null; status: 'replayed'; messageId: string } | BulkFailure;

export interface BulkReplayResult {
  results: BulkReplayItem[];
  replayed: number;
  failed: number;
  /** Only the oldest messages were read: run it again for the rest. */
  truncated: boolean;
}

export type BulkDiscardItem =
  { sequenceNumber: string; jobId: string | null; status: 'discarded' } | BulkFailure;

export interface BulkDiscardResult {
  results: BulkDiscardItem[];
  discarded: number;
  failed: number;
  /** More messages matched than one call discards (or the sub-queue was read only in part): call it again. */
  truncated: boolean;
}

export interface DiscardResult {
  sequenceNumber: string;
  jobId: string | null;
  reason: string;
}

/** The broker's own reason after MaxDeliveryCount: in `host` settlement the job record holds the real one. */
const brokerGaveUpReason = 'MaxDeliveryCountExceeded';
const noJobType = '(not a job)';
const defaultScanLimit = 5_000;
// Store reads in flight at once while listing.
const readConcurrency = 8;

interface Inspected {
  readonly entry: DeadLetterEntry;
  readonly parsed: JobMessageParseResult;
  readonly stored: StoredJob | undefined;
  readonly item: DeadLetterItem;
}

/**
 * Operators' work on the dead-letter sub-queue, for the HTTP functions and the CLI alike: list, replay (one, or all
 * that match), discard. A replay resets the job's record and sends the job again as a fresh attempt cycle; the
 * dead-lettered message is removed only after that send succeeded, and every replay and discard is recorded on the
 * job's record.
 */
export class DeadLetterService {
  private readonly now: () => Date;
  private readonly scanLimit: number;
  private readonly events: JobTelemetry;

  constructor(private readonly options: DeadLetterServiceOptions) {
    this.now = options.now ?? (() => new Date());
    this.scanLimit = options.scanLimit ?? defaultScanLimit;
    this.events = new JobTelemetry(options.telemetry ?? noTelemetry);
  }

  async list({ limit, jobType, reason }: DeadLetterListQuery): Promise<DeadLetterListing> {
    const { inspected, truncated } = await this.scan();
    const byReason: Record<string, number> = {};
    const byJobType: Record<string, number> = {};
    for (const { item } of inspected) {
      byReason[item.reason] = (byReason[item.reason] ?? 0) + 1;
      const type = item.jobType ?? noJobType;
      byJobType[type] = (byJobType[type] ?? 0) + 1;
    }
    const matching = inspected.filter(({ item }) => matches(item, { jobType, reason }));
    return {
      items: matching.slice(0, limit).map(({ item }) => item),
      counts: { byReason, byJobType },
      scanned: inspected.length,
      matched: matching.length,
      truncated,
    };
  }

  async replay(sequenceNumber: string, options: ReplayOptions = {}): Promise<ReplayResult> {
    return this.replayInspected(await this.inspect(await this.found(sequenceNumber)), options);
  }

  /** Replays every message that matches, oldest first; one failure does not stop the others. */
  async replayMatching(filter: DeadLetterFilter): Promise<BulkReplayResult> {
    const { inspected, truncated } = await this.scan();
    const results: BulkReplayItem[] = await actOnEach(
      inspected.filter(({ item }) => matches(item, filter)),
      async (target) => {
        const { sequenceNumber, jobId } = target.item;
        const { messageId } = await this.replayInspected(target, {});
        return { sequenceNumber, jobId, status: 'replayed', messageId };
      },
    );
    const replayed = results.filter((result) => result.status === 'replayed').length;
    return { results, replayed, failed: results.length - replayed, truncated };
  }

  async discard(sequenceNumber: string): Promise<DiscardResult> {
    return this.discardInspected(await this.inspect(await this.found(sequenceNumber)));
  }

  /**
   * Discards every message that matches, oldest first, as `discard` does (each recorded on its job), from one read of
   * the sub-queue; one failure does not stop the others. One call takes at most {@link deadLetterListLimit}.max
   * messages: `truncated` says to call again.
   */
  async discardMatching(filter: DeadLetterFilter): Promise<BulkDiscardResult> {
    const scan = await this.scan();
    const matching = scan.inspected.filter(({ item }) => matches(item, filter));
    const results: BulkDiscardItem[] = await actOnEach(
      matching.slice(0, deadLetterListLimit.max),
      async (target) => {
        await this.discardInspected(target);
        return { sequenceNumber: target.item.sequenceNumber, jobId: target.item.jobId, status: 'discarded' };
      },
    );
    const discarded = results.filter((result) => result.status === 'discarded').length;
    return {
      results,
      discarded,
      failed: results.length - discarded,
      truncated: scan.truncated || matching.length > deadLetterListLimit.max,
    };
  }

  private async discardInspected({ entry, parsed, stored, item }: Inspected): Promise<DiscardResult> {
    const { sequenceNumber } = entry;
    const lease = await this.lock(entry);
    let recorded: StoredJob | undefined;
    try {
      if (stored)
        recorded = await this.apply(stored, { type: 'Discarded', action: this.action('Discarded', item) });
      await lease.remove();
    } catch (error) {
      await lease.release();
      if (recorded) await this.restore(stored?.record, recorded);
      throw error;
    }
    this.events.discarded(
      parsed.ok ? parsed.job : undefined,
      item.attempts,
      continueTrace(entry.traceParent),
      sequenceNumber,
      item.reason,
    );
    this.options.logger.info('Dead-lettered message discarded', {
      sequenceNumber,
      jobId: item.jobId,
      jobType: item.jobType,
      reason: item.reason,
    });
    return { sequenceNumber, jobId: item.jobId, reason: item.reason };
  }

  private async replayInspected(
    { entry, parsed, stored, item }: Inspected,
    options: ReplayOptions,
  ): Promise<ReplayResult> {
    const { sequenceNumber } = entry;
    if (!parsed.ok) {
      throw new ConflictError(
        `Dead-lettered message ${sequenceNumber} is not a job (${parsed.description}) and cannot be replayed; ` +
          'discard it instead.',
      );
    }
    const payloadCorrected = options.payload !== undefined;
    const job: JobMessage = payloadCorrected
      ? { ...parsed.job, payload: options.payload as JobMessage['payload'] }
      : parsed.job;
    this.assertRunnable(job, payloadCorrected);
    assertFitsOneMessage(firstMessageOf(job).body, 'The replayed job');

    const current = stored ?? (await this.recordOf(job));
    const replayed: JobEvent = {
      type: 'Replayed',
      action: { ...this.action('Replayed', item), payloadCorrected },
    };
    // Refused before anything is locked; written under the lock, decided again there on the latest record.
    assertApplies(transition(current.record, replayed, this.now()), job.jobId);
    const lease = await this.lock(entry);
    // The record is reset before the send: the dispatcher dead-letters at once a job whose record says DeadLettered,
    // and counts the next attempt from the record's. If the send fails, the previous record is put back.
    let written: StoredJob;
    try {
      written = await this.apply(current, replayed);
    } catch (error) {
      await lease.release();
      throw error;
    }
    // A replay starts a new attempt cycle, never one used before: its messages' ids are all new.
    const message = firstMessageOf(job, entry.traceParent, written.record.cycle);
    try {
      // No record ETag goes with it: the dispatcher takes an ETag on a first attempt to mean "a fresh record".
      await this.options.queue.send([message]);
    } catch (error) {
      await this.restore(current.record, written);
      await lease.release();
      throw error;
    }
    const removedFromDeadLetterQueue = await lease.remove().then(
      () => true,
      (error: unknown) => {
        this.options.logger.warn('A replayed job was sent, but its dead-lettered copy could not be removed', {
          sequenceNumber,
          jobId: job.jobId,
          error: errorMessage(error),
        });
        return false;
      },
    );
    this.events.replayed(
      job,
      continueTrace(entry.traceParent),
      sequenceNumber,
      item.reason,
      payloadCorrected,
    );
    this.options.logger.info('Dead-lettered job replayed', {
      sequenceNumber,
      jobId: job.jobId,
      jobType: job.jobType,
      correlationId: job.correlationId,
      reason: item.reason,
      payloadCorrected,
    });
    return {
      sequenceNumber,
      jobId: job.jobId,
      messageId: message.messageId,
      payloadCorrected,
      removedFromDeadLetterQueue,
    };
  }

  /** Refuses, before anything changes, a replay the dispatcher would dead-letter again at once. */
  private assertRunnable(job: JobMessage, payloadCorrected: boolean): void {
    const handler = this.options.registry.get(job.jobType);
    if (!handler) {
      throw new ConflictError(
        `No handler for job type '${job.jobType}' (known: ${this.knownJobTypes()}): a replay would be ` +
          'dead-lettered again. Deploy the handler first, or discard the message.',
      );
    }
    const payload = handler.payloadSchema.safeParse(job.payload);
    if (!payload.success) {
      throw new ValidationError(
        payloadCorrected
          ? `The corrected payload does not match '${job.jobType}'.`
          : `The job's payload does not match '${job.jobType}'; replay it with a corrected payload.`,
        fieldErrors(payload.error.issues, '/payload'),
      );
    }
  }

  private async scan(): Promise<{ inspected: Inspected[]; truncated: boolean }> {
    const { entries, truncated } = await this.options.deadLetters.peekDeadLetters(this.scanLimit);
    return {
      inspected: await mapLimited(entries, readConcurrency, (entry) => this.inspect(entry)),
      truncated,
    };
  }

  private async found(sequenceNumber: string): Promise<DeadLetterEntry> {
    const entry = await this.options.deadLetters.peekDeadLetter(sequenceNumber);
    if (!entry) throw new NotFoundError(`No dead-lettered message has sequence number ${sequenceNumber}.`);
    return entry;
  }

  private async lock(entry: DeadLetterEntry): Promise<LockedDeadLetter> {
    const lease = await this.options.deadLetters.lockDeadLetter(entry.sequenceNumber);
    if (!lease) {
      throw new ConflictError(
        `Dead-lettered message ${entry.sequenceNumber} is held by another operation (or was just removed); try again.`,
      );
    }
    return lease;
  }

  private async inspect(entry: DeadLetterEntry): Promise<Inspected> {
    const parsed = parseJobMessage(entry.body);
    const stored = parsed.ok ? await this.options.store.get(parsed.job.jobId) : undefined;
    const { reason, description } = this.reasonOf(entry, parsed, stored?.record);
    return {
      entry,
      parsed,
      stored,
      item: {
        sequenceNumber: entry.sequenceNumber,
        messageId: entry.messageId,
        jobId: parsed.ok ? parsed.job.jobId : null,
        jobType: parsed.ok ? parsed.job.jobType : null,
        reason,
        description,
        attempts: stored?.record.attempt ?? 0,
        deadLetteredAt: entry.deadLetteredAt?.toISOString() ?? null,
      },
    };
  }

  /**
   * In `host` settlement the broker only ever says MaxDeliveryCountExceeded; the dispatcher's decision is on the
   * job's record, or — for a message that never got one — is made again here the way the dispatcher makes it.
   */
  private reasonOf(
    entry: DeadLetterEntry,
    parsed: JobMessageParseResult,
    record: JobRecord | undefined,
  ): { reason: string; description: string } {
    const broker = { reason: entry.reason, description: entry.description };
    if (entry.reason !== brokerGaveUpReason) return broker;
    if (record?.deadLetterReason) {
      return { reason: record.deadLetterReason, description: record.deadLetterDescription ?? '' };
    }
    if (record) return broker;
    if (!parsed.ok) return { reason: 'InvalidFormat', description: parsed.description };
    const match = this.options.registry.match(parsed.job);
    return match.ok ? broker : { reason: match.reason, description: match.description };
  }

  /** A job from another producer that never reached the dispatcher has no record yet: it gets one, as there. */
  private async recordOf(job: JobMessage): Promise<StoredJob> {
    const created = await this.options.store.create(newJobRecord(job, this.now()));
    return created.created ? created.stored : created.existing;
  }

  /** Applies `event` to the latest version of the job's record; a refusal is a conflict the answer explains. */
  private async apply(stored: StoredJob, event: JobEvent): Promise<StoredJob> {
    const changed = await changeRecord<Transition>(this.options.store, stored, (record) => {
      const next = transition(record, event, this.now());
      return next.ok ? { write: next.record, result: next } : { keep: next };
    });
    if (!changed?.stored) throw new ConflictError(`Job ${stored.record.jobId} was removed meanwhile.`);
    assertApplies(changed.result, stored.record.jobId);
    return changed.stored;
  }

  /** Puts back the record as it was before a replay or discard that could not finish. */
  private async restore(previous: JobRecord | undefined, written: StoredJob): Promise<void> {
    if (!previous) return;
    await this.apply(written, { type: 'Restored', previous }).catch(() =>
      this.options.logger.error('Could not restore a job record after a failed dead-letter operation', {
        jobId: previous.jobId,
        status: written.record.status,
      }),
    );
  }

  private action(action: DeadLetterAction['action'], item: DeadLetterItem): DeadLetterAction {
    return {
      action,
      at: this.now().toISOString(),
      sequenceNumber: item.sequenceNumber,
      reason: item.reason,
      payloadCorrected: false,
    };
  }

  private knownJobTypes(): string {
    return this.options.registry.jobTypes().join(', ') || 'none';
  }
}

/**
 * Acts on each message in order: one failure does not stop the others, but once the queue or store is unavailable
 * the rest are not attempted (each would fail the same way, after its own timeout).
 */
async function actOnEach<T extends { item: Pick<DeadLetterItem, 'sequenceNumber' | 'jobId'> }, R>(
  targets: readonly T[],
  act: (target: T) => Promise<R>,
): Promise<Array<R | BulkFailure>> {
  const results: Array<R | BulkFailure> = [];
  let unavailable: string | undefined;
  for (const target of targets) {
    const { sequenceNumber, jobId } = target.item;
    if (unavailable) {
      results.push({ sequenceNumber, jobId, status: 'failed', code: 'NotAttempted', error: unavailable });
      continue;
    }
    try {
      results.push(await act(target));
    } catch (error) {
      const code = isJobsError(error) ? error.code : 'Unexpected';
      results.push({ sequenceNumber, jobId, status: 'failed', code, error: errorMessage(error) });
      if (isInfrastructureError(error)) unavailable = `Not attempted: ${errorMessage(error)}`;
    }
  }
  return results;
}

function matches(item: DeadLetterItem, { jobType, reason }: DeadLetterFilter): boolean {
  return (!jobType || item.jobType === jobType) && (!reason || item.reason === reason);
}

/** A replay the dispatcher would refuse, or one under a live run, is refused before anything changes. */
function assertApplies(next: Transition, jobId: string): void {
  if (next.ok) return;
  switch (next.refusal) {
    case 'Completed':
      throw new ConflictError(
        `Job ${jobId} has completed since this copy was dead-lettered; discard the message instead.`,
      );
    case 'Running':
      throw new ConflictError(`Job ${jobId} is running now; replay it once it has settled.`);
    default:
      throw new ConflictError(`Job ${jobId} cannot take this change now (${next.refusal}).`);
  }
}
