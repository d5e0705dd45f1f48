import type { AppConfig } from '../../src/config';
import { createLogger, resolveLogFormat } from '../../src/jobs/support/logger';
import type { JobsRuntime } from '../../src/runtime';
import { createJobsRuntime } from '../../src/runtime';

/**
 * Runs `use` on the app's core in this process, as a CLI does in Service Bus mode: it logs warnings and errors only,
 * on stderr (stdout is for the answer), as `app`; the runtime is always stopped afterwards.
 */
export async function withCliRuntime<T>(
  config: AppConfig,
  app: string,
  use: (runtime: JobsRuntime) => Promise<T>,
): Promise<T> {
  const logger = createLogger('warn', {
    format: resolveLogFormat(config.logFormat, process.stderr),
    write: (line) => process.stderr.write(`${line}\n`),
    base: { app },
  });
  const runtime = createJobsRuntime(config, { logger });
  try {
    return await use(runtime);
  } finally {
    await runtime.stop();
  }
}
