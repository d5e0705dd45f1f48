import { createLogger, resolveLogFormat } from '../../../../src/jobs/support/logger';

describe('createLogger', () => {
  it('writes one JSON object per line, with the fields of every parent logger', () => {
    const lines: string[] = [];
    const logger = createLogger('info', { write: (line) => lines.push(line), base: { app: 'sdap-jobs' } });

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

  it('in pretty format, writes one short line for a person: time, level, message, then the fields', () => {
    const lines: string[] = [];
    const logger = createLogger('debug', {
      format: 'pretty',
      write: (line) => lines.push(line),
      base: { app: 'sdap-jobs' },
    });

    logger.child({ jobId: 'j-1', jobType: 'diagnostics.simulate' }).info('Job completed', {
      attempt: 1,
      error: 'a message with spaces',
      outcome: { status: 'Completed' },
      skipped: undefined,
      correlationId: '',
      jobTypes: ['a.b', 'c.d'],
    });

    expect(lines).toEqual([
      expect.stringMatching(
        /^\d\d:\d\d:\d\d\.\d{3} INFO {2}Job completed jobId=j-1 jobType=diagnostics\.simulate attempt=1 error="a message with spaces" outcome=\{"status":"Completed"\} jobTypes=a\.b,c\.d$/,
      ),
    ]);
  });

  it('passes each line its level, so a writer can route it', () => {
    const levels: string[] = [];
    const logger = createLogger('debug', { write: (_line, level) => levels.push(level) });

    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');

    expect(levels).toEqual(['debug', 'info', 'warn', 'error']);
  });

  it('drops lines below its level, and everything when silent', () => {
    const lines: string[] = [];

    createLogger('warn', { write: (line) => lines.push(line) }).info('not shown');
    createLogger('silent', { write: (line) => lines.push(line) }).error('not shown either');

    expect(lines).toEqual([]);
  });

  it('settles the auto format on pretty for a terminal and on json otherwise', () => {
    expect(resolveLogFormat('auto', { isTTY: true })).toBe('pretty');
    expect(resolveLogFormat('auto', {})).toBe('json');
    expect(resolveLogFormat('json', { isTTY: true })).toBe('json');
  });
});
