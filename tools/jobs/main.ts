import { loadConfig } from '../../src/config';
import type { CancelResult } from '../../src/jobs/operators/jobCancellation';
import type { JobRecord } from '../../src/jobs/model/jobRecord';
import { withCliRuntime } from '../cli/withCliRuntime';
import { callAppApi } from '../cli/appApi';
import { runCli } from '../cli/runCli';
import { cliEnvironment } from '../cli/cliEnvironment';
import { jobsUsage, parseJobsArguments } from './jobsCommand';

/** What a cancel came to, as the CLI reports it. */
type CancelAnswer = Pick<CancelResult, 'outcome'> & { record: Pick<JobRecord, 'jobId' | 'status'> };

/** What the CLI does with one job, through the core in this process or through a running app's HTTP API. */
interface JobOperations {
  show(jobId: string): Promise<JobRecord>;
  cancel(jobId: string): Promise<CancelAnswer>;
}

// `npm run jobs -- show <jobId> | cancel <jobId>`, with the settings `npm start` reads. Exit code 0 on success,
// 1 when the operation failed (a finished job cannot be cancelled), 2 when the command was wrong.
async function main(argv: readonly string[]): Promise<number> {
  const { command, url, settings } = parseJobsArguments(argv);
  if (command.kind === 'help') {
    console.log(jobsUsage);
    return 0;
  }
  const config = loadConfig(cliEnvironment(settings));
  if (!config.useServiceBus || url)
    return run(command, httpJobOperations(url ?? `http://localhost:${config.port}`));
  return withCliRuntime(config, 'sdap-jobs-cli', (runtime) =>
    run(command, {
      show: async (jobId) => {
        const record = (await runtime.store.get(jobId))?.record;
        if (!record) throw new Error(`No job with id '${jobId}'.`);
        return record;
      },
      cancel: (jobId) => runtime.cancellation.cancel(jobId),
    }),
  );
}

async function run(command: { kind: 'show' | 'cancel'; jobId: string }, operations: JobOperations) {
  if (command.kind === 'show') {
    console.log(JSON.stringify(await operations.show(command.jobId), null, 2));
    return 0;
  }
  const { outcome, record } = await operations.cancel(command.jobId);
  const lines = {
    Cancelled: `Cancelled job ${record.jobId}: it will not run.`,
    CancelRequested: `Cancel requested for job ${record.jobId}: it is running, and ends Cancelled when its run stops.`,
    AlreadyFinished: `Job ${record.jobId} is ${record.status}: there is nothing to cancel.`,
  };
  console.log(lines[outcome]);
  return outcome === 'AlreadyFinished' ? 1 : 0;
}

/** The operations over a running app's HTTP API; a finished job's 409 comes back as an error naming its status. */
function httpJobOperations(baseUrl: string): JobOperations {
  return {
    show: (jobId) => callAppApi<JobRecord>(baseUrl, `/jobs/${jobId}`),
    cancel: async (jobId) => {
      const record = await callAppApi<Pick<JobRecord, 'jobId' | 'status'>>(baseUrl, `/jobs/${jobId}/cancel`, {
        method: 'POST',
      });
      return { outcome: record.status === 'Cancelled' ? 'Cancelled' : 'CancelRequested', record };
    },
  };
}

runCli(main, 'npm run jobs -- --help');
