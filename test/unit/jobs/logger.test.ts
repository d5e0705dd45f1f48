import { createJsonLogger } from '../../../src/jobs/logger';

describe('createJsonLogger', () => {
  it('writes one JSON object per line, with the fields of every parent logger', () => {
    const lines: string[] = [];
    const logger = createJsonLogger('info', (line) => lines.push(line), { app: 'sdap-jobs' });

    logger.child({ jobId: 'j-1' }).child({ attempt: 2 }).warn('Job failed', { error: 'boom' });

    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '')).toEqual({
      time: expect.any(String),
      level: 'warn',
      message: 'Job failed',
      app: 'sdap-jobs',
      jobId: 'j-1',
      attempt: 2,
      error: 'boom',
    });
  });

  it('drops lines below its level, and everything when silent', () => {
    const lines: string[] = [];

    createJsonLogger('warn', (line) => lines.push(line)).info('not shown');
    createJsonLogger('silent', (line) => lines.push(line)).error('not shown either');

    expect(lines).toEqual([]);
  });
});
