import { InvocationContext } from '@azure/functions';
import { toInvocationLogs, withInvocationLogs } from '../../../src/functions/invocationLogs';
import { createLogger } from '../../../src/jobs/support/logger';

describe('invocation logs', () => {
  /** A real InvocationContext whose log handler records what the host would receive. */
  function hostContext(invocationId: string) {
    const received: Array<{ level: string; message: string }> = [];
    const context = new InvocationContext({
      invocationId,
      functionName: 'processJob',
      logHandler: (level, ...args) => received.push({ level, message: args.map(String).join(' ') }),
    });
    return { context, received };
  }

  it("when the app logs inside an invocation, then each line goes through that invocation's context at its level", async () => {
    const stdout: string[] = [];
    const logger = createLogger('debug', { write: toInvocationLogs((line) => stdout.push(line)) });
    const first = hostContext('inv-1');
    const second = hostContext('inv-2');
    const handler = withInvocationLogs(async (jobId: string) => {
      logger.debug('Job received', { jobId });
      await Promise.resolve();
      logger.info('Job completed', { jobId });
      logger.warn('Job slow', { jobId });
      logger.error('Job failed', { jobId });
    });

    await Promise.all([handler('a', first.context), handler('b', second.context)]);

    expect(first.received.map(({ level }) => level)).toEqual(['debug', 'information', 'warning', 'error']);
    expect(first.received.every(({ message }) => JSON.parse(message).jobId === 'a')).toBe(true);
    expect(second.received.every(({ message }) => JSON.parse(message).jobId === 'b')).toBe(true);
    expect(stdout).toEqual([]);
  });

  it('when the app logs outside an invocation, or after it returned, then the line goes to the fallback', async () => {
    const stdout: string[] = [];
    const logger = createLogger('info', { write: toInvocationLogs((line) => stdout.push(line)) });
    const { context, received } = hostContext('inv-3');
    let leftRunning: Promise<void> | undefined;
    const handler = withInvocationLogs(async () => {
      leftRunning = Promise.resolve().then(async () => {
        await new Promise<void>((resolve) => setImmediate(resolve));
        logger.info('Background cleanup');
      });
    });

    logger.info('Starting');
    await handler(undefined, context);
    await leftRunning;

    expect(received).toEqual([]);
    expect(stdout.map((line) => JSON.parse(line).message)).toEqual(['Starting', 'Background cleanup']);
  });
});
