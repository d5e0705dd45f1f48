import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

/** What the app's logs say of one job besides its handler runs: when its sends and repairs happened. */
export interface JobAppEvents {
  /** Its submission could not send it at once: it waited in the outbox sender for the broker. */
  held: boolean;
  /** When the outbox sender sent the job after the broker had refused it (wall clock), if it ever had to. */
  heldSentAt: number | undefined;
  /** When the reconciler repaired the job (sent it again, or recorded the broker's dead-letter). */
  repairedAt: number[];
}

// The app's log messages for these events. If they are reworded this reader sees nothing, which the soak reports
// as jobs that needed the reconciler never, and held jobs as never held: it loses precision, it invents nothing.
const submitted = 'Job submitted';
const heldSent = 'Recorded jobs sent after the queue answered again';
const repaired = [
  'A job had stopped moving; its message was sent again',
  'The broker dead-lettered the job; its record now says so',
];

/** Reads every app process's JSON log lines for the sends of held jobs and the reconciler's repairs, by job. */
export async function readAppEvents(logFiles: readonly string[]): Promise<Map<string, JobAppEvents>> {
  const byJob = new Map<string, JobAppEvents>();
  const of = (jobId: unknown): JobAppEvents => {
    const key = String(jobId ?? '').toLowerCase();
    let events = byJob.get(key);
    if (!events) byJob.set(key, (events = { held: false, heldSentAt: undefined, repairedAt: [] }));
    return events;
  };
  for (const file of logFiles) {
    for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
      const interesting =
        line.includes('"sentToQueue":false') ||
        line.includes(heldSent) ||
        repaired.some((message) => line.includes(message));
      if (!interesting) continue;
      const entry = parseLine(line);
      const at = Date.parse(String(entry?.time));
      if (!entry || Number.isNaN(at)) continue;
      if (entry.message === submitted && entry.sentToQueue === false) {
        of(entry.jobId).held = true;
      } else if (entry.message === heldSent && Array.isArray(entry.jobIds)) {
        for (const jobId of entry.jobIds) {
          const events = of(jobId);
          events.heldSentAt = Math.min(events.heldSentAt ?? Infinity, at);
        }
      } else if (repaired.includes(String(entry.message))) {
        of(entry.jobId).repairedAt.push(at);
      }
    }
  }
  return byJob;
}

interface LogEntry {
  time?: unknown;
  message?: unknown;
  jobId?: unknown;
  jobIds?: unknown;
  sentToQueue?: unknown;
}

function parseLine(line: string): LogEntry | undefined {
  try {
    return JSON.parse(line) as LogEntry;
  } catch {
    return undefined;
  }
}
