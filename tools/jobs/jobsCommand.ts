import { jobIdSchema } from '../../src/jobs/model/jobMessage';
import type { CliInvocation } from '../cli/cliArguments';
import { parseCliArguments, settingsOptionUsage } from '../cli/cliArguments';
import { UsageError } from '../cli/runCli';

export type JobsCommand = { kind: 'show' | 'cancel'; jobId: string } | { kind: 'help' };

export type JobsInvocation = CliInvocation<JobsCommand>;

export const jobsUsage = `Usage: npm run jobs -- <command> [options]

  show <jobId>     the job's record
  cancel <jobId>   cancel the job: a queued or retrying job never runs; a running one is stopped and ends Cancelled

Options:
  --url <base>            the running app (default http://localhost:$PORT, PORT defaulting to 7071; in Service Bus
                          mode without --url the command works on the queue and the store directly)
${settingsOptionUsage}`;

export function parseJobsArguments(argv: readonly string[]): JobsInvocation {
  const { values, positionals } = parseCliArguments(argv, {});
  const [name, jobId, ...extra] = positionals;
  const { url, settings } = values;
  if (values.help || name === undefined || name === 'help')
    return { command: { kind: 'help' }, url, settings };
  if (name !== 'show' && name !== 'cancel') throw new UsageError(`Unknown command '${name}'.`);
  if (jobId === undefined) throw new UsageError(`'${name}' needs the id of the job.`);
  if (extra.length > 0) throw new UsageError(`Unexpected argument '${extra[0]}'.`);
  if (!jobIdSchema.safeParse(jobId).success) throw new UsageError(`'${jobId}' is not a job id (a GUID).`);
  return { command: { kind: name, jobId: jobId.toLowerCase() }, url, settings };
}
