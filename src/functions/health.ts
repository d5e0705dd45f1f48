import type { HttpResponseInit } from '@azure/functions';
import type { JobsRuntime } from '../runtime';

/** `GET /api/health`: which transport runs, on which queue, for which job types. */
export function createHealth({
  queue,
  registry,
  config,
}: Pick<JobsRuntime, 'queue' | 'registry' | 'config'>) {
  return async (): Promise<HttpResponseInit> => ({
    status: 200,
    jsonBody: {
      status: 'ok',
      mode: queue.transport,
      queue: queue.queueName,
      settlement: queue.transport === 'service-bus' ? config.serviceBus.settlement : 'in-memory',
      jobTypes: registry.jobTypes(),
    },
  });
}
