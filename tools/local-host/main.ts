import { isJobsError } from '../../src/jobs/errors';
import { startLocalHost } from './localHost';
import { localEnvironment } from './localSettings';

// `npm start`: the app on http://localhost:7071/api with no Azure, no Docker and no Core Tools.
async function main(): Promise<void> {
  const host = await startLocalHost({ env: localEnvironment() });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    host.runtime.logger.info('Stopping', { signal });
    host.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(isJobsError(error) ? error.message : error);
  process.exit(1);
});
