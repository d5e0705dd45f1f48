import type { Timer } from '@azure/functions';
import { loadConfig } from '../../../src/config';
import type { TimerFunctionDefinition } from '../../../src/functions/functionTable';
import { purgeFinishedJobsSchedule } from '../../../src/functions/purgeFinishedJobs';
import { reconcileJobsSchedule } from '../../../src/functions/reconcileJobs';
import { silentLogger } from '../../../src/jobs/support/logger';
import { TimerRunner } from '../../../tools/local-host/timerRunner';
import { ManualClock } from '../../support/manualClock';

function recordingTimer(name: string, schedule: string, runMs = 0, clock?: ManualClock) {
  const runs: { at: string; timer: Timer }[] = [];
  const definition: TimerFunctionDefinition = {
    kind: 'timer',
    name,
    schedule,
    handler: async (timer) => {
      runs.push({ at: clock?.now().toISOString() ?? '', timer });
      if (runMs > 0) await clock!.sleep(runMs);
    },
  };
  return { definition, runs };
}

const minute = 60_000;

describe('TimerRunner (the local host)', () => {
  it("when the schedule settings are unset, then it runs each timer at today's defaults, as the host does", async () => {
    const clock = new ManualClock(new Date('2026-03-02T10:00:30Z'));
    const reconcile = recordingTimer('reconcileJobs', reconcileJobsSchedule, 0, clock);
    const purge = recordingTimer('purgeFinishedJobs', purgeFinishedJobsSchedule, 0, clock);
    const runner = new TimerRunner(
      [reconcile.definition, purge.definition],
      loadConfig({ Jobs__UseServiceBus: 'false' }),
      silentLogger,
      clock,
    );

    runner.start();
    await clock.advance(20 * minute);
    await runner.close();

    expect(reconcile.runs.map((run) => run.at.slice(11, 19))).toEqual(
      Array.from({ length: 20 }, (_, index) => `10:${String(index + 1).padStart(2, '0')}:00`),
    );
    expect(purge.runs.map((run) => run.at)).toEqual(['2026-03-02T10:17:00.000Z']);
    expect(purge.runs[0]!.timer.scheduleStatus).toMatchObject({
      last: '2026-03-02T10:17:00.000Z',
      next: '2026-03-02T11:17:00.000Z',
    });
  });

  it('when a schedule setting is set, then it runs that timer on the setting', async () => {
    const clock = new ManualClock(new Date('2026-03-02T10:00:00Z'));
    const reconcile = recordingTimer('reconcileJobs', reconcileJobsSchedule, 0, clock);
    const runner = new TimerRunner(
      [reconcile.definition],
      loadConfig({ Jobs__UseServiceBus: 'false', Jobs__Reconciler__Schedule: '0 0 */6 * * *' }),
      silentLogger,
      clock,
    );

    runner.start();
    await clock.advance(13 * 60 * minute);
    await runner.close();

    expect(reconcile.runs.map((run) => run.at)).toEqual([
      '2026-03-02T12:00:00.000Z',
      '2026-03-02T18:00:00.000Z',
    ]);
  });

  it('when Jobs__Reconciler__IntervalMs is set, then it runs every timer at that interval instead', async () => {
    const clock = new ManualClock(new Date('2026-03-02T10:00:00Z'));
    const reconcile = recordingTimer('reconcileJobs', reconcileJobsSchedule, 0, clock);
    const purge = recordingTimer('purgeFinishedJobs', purgeFinishedJobsSchedule, 0, clock);
    const runner = new TimerRunner(
      [reconcile.definition, purge.definition],
      loadConfig({ Jobs__UseServiceBus: 'false', Jobs__Reconciler__IntervalMs: '5000' }),
      silentLogger,
      clock,
    );

    runner.start();
    await clock.advance(16_000);
    await runner.close();

    expect(reconcile.runs).toHaveLength(3);
    expect(purge.runs).toHaveLength(3);
  });

  it('when a run outlasts the next occurrences, then those are skipped, never run twice at once', async () => {
    const clock = new ManualClock(new Date('2026-03-02T10:00:00Z'));
    const slow = recordingTimer('reconcileJobs', reconcileJobsSchedule, 150_000, clock);
    const runner = new TimerRunner(
      [slow.definition],
      loadConfig({ Jobs__UseServiceBus: 'false' }),
      silentLogger,
      clock,
    );

    runner.start();
    await clock.advance(6 * minute);
    const closed = runner.close();
    await clock.advance(3 * minute);
    await closed;

    expect(slow.runs.map((run) => run.at.slice(11, 19))).toEqual(['10:01:00', '10:04:00']);
  });

  it('refuses a timer whose schedule names a setting that is not a schedule, naming it', () => {
    const odd = recordingTimer('odd', '%Jobs__LogLevel%');

    expect(
      () => new TimerRunner([odd.definition], loadConfig({ Jobs__UseServiceBus: 'false' }), silentLogger),
    ).toThrow(/Jobs__LogLevel/);
  });
});
