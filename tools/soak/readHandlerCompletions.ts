import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

/** What the app's logs say about the handler runs of one job that finished successfully. */
export interface HandlerCompletions {
  /** Successful runs per app process (index into the log files). */
  readonly byProcess: number[];
  /** Runs that succeeded after another worker had already settled the job: a second, concurrent run. */
  readonly afterSettledElsewhere: number;
}

// The dispatcher's log messages for a successful handler run. If they are reworded this check sees nothing, which
// loses precision but never reports a false duplicate.
const completed = 'Job completed';
const completedAfterOthers = 'Job completed, but another worker had settled it first';

/**
 * Reads the app's JSON log lines, one file per app process, for successful handler runs per job: the job record
 * cannot show a run whose result was discarded, the log can.
 */
export async function readHandlerCompletions(
  logFiles: readonly string[],
): Promise<Map<string, HandlerCompletions>> {
  const byJob = new Map<string, { byProcess: number[]; afterSettledElsewhere: number }>();
  for (const [index, file] of logFiles.entries()) {
    for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
      if (!line.includes('"message":"Job completed')) continue;
      const entry = parseLine(line);
      if (!entry || (entry.message !== completed && entry.message !== completedAfterOthers)) continue;
      const jobId = String(entry.jobId ?? '').toLowerCase();
      const runs = byJob.get(jobId) ?? { byProcess: logFiles.map(() => 0), afterSettledElsewhere: 0 };
      runs.byProcess[index] = (runs.byProcess[index] ?? 0) + 1;
      if (entry.message === completedAfterOthers) runs.afterSettledElsewhere += 1;
      byJob.set(jobId, runs);
    }
  }
  return byJob;
}

function parseLine(line: string): { message?: unknown; jobId?: unknown } | undefined {
  try {
    return JSON.parse(line) as { message?: unknown; jobId?: unknown };
  } catch {
    return undefined;
  }
}
