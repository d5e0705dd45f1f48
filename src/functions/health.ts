import type { JobsRuntime } from '../runtime';
import { httpFunction } from './httpFunction';

/** `GET /api/health`: which transport runs, on which queue, for which job types. */
export function createHealth({
  queue,
  registry,
  config,
  logger,
}: Pick<JobsRuntime, 'queue' | 'registry' | 'config' | 'logger'>) {
  return httpFunction(logger, {}, async () => ({
    status: 200,
    jsonBody: {
      status: 'ok',
      mode: queue.transport,
      queue: queue.queueName,
      settlement: queue.transport === 'service-bus' ? config.serviceBus.settlement : 'in-memory',
      jobTypes: registry.jobTypes(),
    },
  }));
}
