import { JobsError } from '../jobs/errors';
import type { JobHandler } from './jobHandler';

/** jobType → handler. Built once at start-up; a jobType registered twice stops the app from starting. */
export class HandlerRegistry {
  private readonly handlers = new Map<string, JobHandler>();

  constructor(handlers: Iterable<JobHandler>) {
    for (const handler of handlers) {
      if (this.handlers.has(handler.jobType)) {
        throw new JobsError(
          'DuplicateJobType',
          `Two handlers are registered for job type '${handler.jobType}'.`,
        );
      }
      this.handlers.set(handler.jobType, handler);
    }
  }

  get(jobType: string): JobHandler | undefined {
    return this.handlers.get(jobType);
  }

  jobTypes(): string[] {
    return [...this.handlers.keys()].sort();
  }
}
