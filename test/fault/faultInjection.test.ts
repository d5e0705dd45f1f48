import { resolve } from 'node:path';
import { violationClasses } from '../../tools/soak/checkInvariants';
import type { FaultSpec } from '../../tools/soak/faults';
import type { Settlement } from '../../tools/soak/soakRun';
import { runSoak } from '../../tools/soak/soakRun';

const root = resolve(__dirname, '..', '..');
// The app from the TypeScript sources, as the other process-level tests start it: no build step needed.
const appNodeArgs = [
  '-r',
  resolve(root, 'test/support/registerTypeScript.js'),
  resolve(root, 'tools/local-host/main.ts'),
];

// One of each fault the issue names, while jobs are submitted and run, each opening a failure window on purpose:
// - storage refuses every connection for longer than a message's deliveries last (10 within a few seconds), so a
//   job must not spend its deliveries waiting for storage;
// - the broker refuses every connection, and the app is killed with SIGKILL during that cut, while submissions
//   have recorded their jobs but cannot send them yet;
// - the app comes back on the same port, and clients retry with the same idempotency keys.
const faults: FaultSpec[] = [
  { atMs: 1_500, kind: 'cutStorage', durationMs: 12_000 },
  { atMs: 15_000, kind: 'cutBroker', durationMs: 4_000 },
  { atMs: 16_500, kind: 'killApp', durationMs: 500 },
];
// Fixed, so a failure here is the same run each time; SOAK_SEED tries another workload.
const seed = Number(process.env.SOAK_SEED ?? 20261201);
const noViolations = Object.fromEntries(violationClasses.map((name) => [name, 0]));

describe.each<Settlement>(['host', 'explicit'])('fault injection, %s settlement', (settlement) => {
  it('when 300 jobs go through a storage cut, a broker cut and a SIGKILL, then each ends as its payload says, within its attempts, once, and the broker agrees', async () => {
    const result = await runSoak({
      settlement,
      jobs: 300,
      seed,
      rate: 12,
      faults,
      settleTimeoutMs: 60_000,
      appNodeArgs,
    });

    if (result.failed) console.log(`${result.summary}\n${result.examples}`);
    expect({ summary: result.summary, counts: result.report.counts, crashes: result.crashes }).toEqual({
      summary: expect.any(String),
      counts: noViolations,
      crashes: [],
    });
    // A tenth of the jobs is cancelled along the way: some of those must have ended Cancelled.
    expect(result.report.totals.cancelled).toBeGreaterThan(0);
  }, 240_000);
});
