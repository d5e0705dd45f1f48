import { setTimeout as sleep } from 'node:timers/promises';
import type { JobRecord } from '../../src/jobs/model/jobRecord';
import { isTerminalJobStatus } from '../../src/jobs/model/jobRecord';
import type { BrokerProbe } from './brokerProbe';
import { byJobId } from './brokerProbe';
import { readRecords } from './readRecords';

export interface SettleOptions {
  timeoutMs: number;
  pollMs?: number;
  log?: (line: string) => void;
}

/**
 * Waits until the system has nothing left to do, or `timeoutMs` passes: the queue holds no message (active, locked
 * or scheduled), every job that has a record has a terminal one, and the dead-letter sub-queue holds exactly one
 * message per dead-lettered job and none for the others — on two looks in a row. Repairs that come later (a sweep
 * that resends a job or removes a stray dead-letter copy) get until the deadline. True when it settled.
 */
export async function awaitSettled(
  probe: BrokerProbe,
  baseUrl: string,
  jobIds: readonly string[],
  { timeoutMs, pollMs = 2_000, log = () => undefined }: SettleOptions,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  const terminal = new Map<string, JobRecord>();
  let settledBefore = false;
  let lastReport = 0;
  while (Date.now() < deadline) {
    const unsettled = await unsettledCount(probe, baseUrl, jobIds, terminal).catch(() => undefined);
    const settled =
      unsettled !== undefined &&
      unsettled.queued + unsettled.unfinished + unsettled.deadLetterMismatches === 0;
    if (settled && settledBefore) return true;
    settledBefore = settled;
    if (unsettled && Date.now() - lastReport > 15_000) {
      lastReport = Date.now();
      log(
        `settling: ${unsettled.queued} message(s) queued, ${unsettled.unfinished} record(s) not terminal, ` +
          `${unsettled.deadLetterMismatches} job(s) whose dead-letter messages disagree with their record`,
      );
    }
    await sleep(pollMs);
  }
  return false;
}

/** What is still moving. Terminal records are remembered and not read again: nothing takes a job out of one. */
async function unsettledCount(
  probe: BrokerProbe,
  baseUrl: string,
  jobIds: readonly string[],
  terminal: Map<string, JobRecord>,
) {
  const { queued, deadLettered } = await probe.snapshot();
  const open = jobIds.filter((jobId) => !terminal.has(jobId));
  let unfinished = 0;
  for (const [jobId, record] of await readRecords(baseUrl, open)) {
    if (record && isTerminalJobStatus(record.status)) terminal.set(jobId, record);
    else if (record) unfinished += 1;
  }
  const deadLetteredByJob = byJobId(deadLettered);
  let deadLetterMismatches = 0;
  for (const jobId of jobIds) {
    const copies = deadLetteredByJob.get(jobId)?.length ?? 0;
    const expected = terminal.get(jobId)?.status === 'DeadLettered' ? 1 : 0;
    if (copies !== expected) deadLetterMismatches += 1;
  }
  return { queued: queued.length, unfinished, deadLetterMismatches };
}
