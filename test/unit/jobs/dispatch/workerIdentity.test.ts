import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { hostname } from 'node:os';
import { isGoneLocalWorker, newWorkerId } from '../../../../src/jobs/dispatch/workerIdentity';

describe('isGoneLocalWorker', () => {
  it('knows a claim of an earlier start under our own process id is gone (a restarted container)', () => {
    const self = newWorkerId();

    expect(isGoneLocalWorker(`${hostname()}:${process.pid}:0a0b0c`, self)).toBe(true);
  });

  it('knows a claim of a process on this host that has exited is gone', async () => {
    const child = spawn(process.execPath, ['-e', '']);
    await once(child, 'exit');

    expect(isGoneLocalWorker(`${hostname()}:${child.pid}:0a0b0c`, newWorkerId())).toBe(true);
  });

  it('leaves alone its own claims, those of other dispatchers of this process, of live processes and of other hosts', () => {
    const self = newWorkerId();
    const sibling = newWorkerId();

    expect(isGoneLocalWorker(self, self)).toBe(false);
    expect(isGoneLocalWorker(sibling, self)).toBe(false);
    expect(isGoneLocalWorker(`${hostname()}:${process.ppid}:0a0b0c`, self)).toBe(false);
    expect(isGoneLocalWorker(`another-host:${process.pid}:0a0b0c`, self)).toBe(false);
    expect(isGoneLocalWorker('worker-a', self)).toBe(false);
    expect(isGoneLocalWorker(null, self)).toBe(false);
  });
});
