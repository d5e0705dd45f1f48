import { TableClient } from '@azure/data-tables';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import { loadConfig } from '../src/config';
import { createJobsRuntime } from '../src/runtime';
import { TableJobStore } from '../src/store/tableJobStore';
import { startAzurite } from '../tools/azurite/startAzurite';
import { completionCounter } from './completionCounter';

/**
 * Table Storage requests per successful job, submit to Completed, on the real submission, queue and dispatcher
 * (embedded queue, table store on Azurite), counted at the HTTP pipeline and named by what they do.
 */
export async function measureStorageOperations(
  jobs: number,
): Promise<{ perJob: number; breakdown: Record<string, number> }> {
  const azurite = await startAzurite();
  const counts: Record<string, number> = {};
  let counting = false;
  const counter: PipelinePolicy = {
    name: 'countRequests',
    sendRequest: (request, next) => {
      if (counting) {
        const key = operationName(
          request.method,
          new URL(request.url).pathname,
          request.headers.has('if-match'),
        );
        counts[key] = (counts[key] ?? 0) + 1;
      }
      return next(request);
    },
  };
  const table = TableClient.fromConnectionString(azurite.connectionString, 'BenchJobs', {
    allowInsecureConnection: true,
    additionalPolicies: [{ policy: counter, position: 'perCall' }],
  });
  const completions = completionCounter();
  const runtime = createJobsRuntime(
    loadConfig({ Jobs__UseServiceBus: 'false', Jobs__EnableDiagnostics: 'true' }),
    { store: new TableJobStore(table), logger: completions.logger },
  );
  try {
    runtime.start();
    await runtime.submission.submit({ jobType: 'diagnostics.simulate', payload: {} }); // creates the table
    await completions.whenCompleted(1);
    counting = true;
    for (let index = 0; index < jobs; index += 1) {
      await runtime.submission.submit({
        jobType: 'diagnostics.simulate',
        payload: {},
        idempotencyKey: `bench-${index}`,
      });
    }
    await completions.whenCompleted(jobs + 1);
    counting = false;
    const total = Object.values(counts).reduce((sum, count) => sum + count, 0);
    const breakdown = Object.fromEntries(Object.entries(counts).map(([key, count]) => [key, count / jobs]));
    return { perJob: total / jobs, breakdown };
  } finally {
    await runtime.stop();
    await azurite.close();
  }
}

function operationName(method: string, path: string, conditional: boolean): string {
  if (method === 'POST' && path.endsWith('$batch')) return 'index transaction (rows of one or more jobs)';
  if (method === 'POST') return 'insert record';
  if (method === 'PUT' && path.includes('outcomes-'))
    return 'write outcome entry (stats, attempt ended another day)';
  if ((method === 'PATCH' || method === 'PUT') && conditional) return 'conditional update (claim, result)';
  if (method === 'GET' && path.includes("RowKey='job'")) return 'read record';
  return `${method} ${path}`;
}
