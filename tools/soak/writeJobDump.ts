import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { JobRecord } from '../../src/jobs/model/jobRecord';
import type { BrokerSnapshot } from './brokerProbe';
import { byJobId } from './brokerProbe';
import type { JobSubmissions } from './runWorkload';
import { clientVerdict } from './runWorkload';

/**
 * Every job of a run as one JSON line — plan, what the clients were told, record, broker messages — so a run can be
 * examined after the fact (`jq`) beyond the examples the report prints.
 */
export async function writeJobDump(
  path: string,
  submissions: ReadonlyMap<string, JobSubmissions>,
  records: ReadonlyMap<string, JobRecord | undefined>,
  broker: BrokerSnapshot,
): Promise<void> {
  const queued = byJobId(broker.queued);
  const deadLettered = byJobId(broker.deadLettered);
  const out = createWriteStream(path);
  for (const entry of submissions.values()) {
    const { job } = entry;
    const line = JSON.stringify({
      ...job,
      verdict: clientVerdict(entry),
      tries: entry.tries,
      answers: entry.answers,
      cancels: entry.cancels,
      record: records.get(job.jobId) ?? null,
      queued: queued.get(job.jobId) ?? [],
      deadLettered: deadLettered.get(job.jobId) ?? [],
    });
    if (!out.write(`${line}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}
