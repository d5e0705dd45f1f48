import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/** Worker ids this process has made: on a process id of ours, any other is an earlier start's. */
const startedHere = new Set<string>();

/** A name for the claims one dispatcher takes: `host:pid:random`, the random part new with every start. */
export function newWorkerId(): string {
  const id = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  startedHere.add(id);
  return id;
}

/**
 * Whether the worker that holds a claim is known to be gone, from facts this process can check: a worker on this
 * host whose process no longer runs, or an earlier start under our own process id (a restarted container). A claim
 * of another host is never judged gone here; it runs out in its own time.
 */
export function isGoneLocalWorker(claimedBy: string | null, self: string): boolean {
  if (!claimedBy || claimedBy === self || startedHere.has(claimedBy)) return false;
  const [host, pid] = claimedBy.split(':');
  const [ownHost, ownPid] = self.split(':');
  if (host !== ownHost || !pid || !/^\d+$/.test(pid)) return false;
  if (pid === ownPid) return true;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
