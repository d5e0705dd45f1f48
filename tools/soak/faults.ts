import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AppProcess } from './appProcess';
import type { FaultProxy } from './faultProxy';
import type { SeededRandom } from './seededRandom';

/**
 * The faults a soak run injects: storage (Azurite's Table endpoint) or the broker (the emulator) refusing every
 * connection or silently holding every byte, both refusing at once (the app cut off from the network), and the app
 * killed with SIGKILL and started again.
 */
export type FaultKind =
  'cutStorage' | 'cutBroker' | 'cutBoth' | 'blackHoleStorage' | 'blackHoleBroker' | 'killApp';

export const faultKinds: readonly FaultKind[] = [
  'cutStorage',
  'cutBroker',
  'cutBoth',
  'blackHoleStorage',
  'blackHoleBroker',
  'killApp',
];

/** A fault `atMs` after the run starts, lasting `durationMs` (for `killApp`, the time the app stays down). */
export interface FaultSpec {
  readonly atMs: number;
  readonly kind: FaultKind;
  readonly durationMs: number;
}

/** A fault as it happened, in wall-clock milliseconds. */
export interface FaultEvent extends FaultSpec {
  readonly startedAt: number;
  readonly endedAt: number;
}

export interface FaultPlanOptions {
  /** Faults start within this many milliseconds of the run's start. */
  windowMs: number;
  /** Quiet time between the end of one fault and the start of the next, on average. */
  meanGapMs: number;
  minDurationMs: number;
  maxDurationMs: number;
  /** Some outages are long — longer than a message's deliveries last — lasting up to this. */
  maxLongDurationMs: number;
  /** The share of outages that are long. */
  longShare: number;
  /**
   * One broker outage this long while submissions go on (when the window holds three of them), a third of the way
   * in: submissions must still be accepted, and the jobs sent as soon as the broker is back. 0: none.
   */
  brokerOutageMs: number;
}

/** A seeded schedule of faults, one at a time (each ends before the next starts), spread over the window. */
export function planFaults(random: SeededRandom, options: FaultPlanOptions): FaultSpec[] {
  const faults: FaultSpec[] = [];
  let at = random.int(options.meanGapMs / 2, options.meanGapMs);
  let outageAt =
    options.brokerOutageMs > 0 && options.windowMs >= 3 * options.brokerOutageMs
      ? options.windowMs / 3
      : Infinity;
  while (at < options.windowMs) {
    if (at >= outageAt) {
      faults.push({ atMs: at, kind: 'cutBroker', durationMs: options.brokerOutageMs });
      at += options.brokerOutageMs + random.int(options.meanGapMs / 2, (options.meanGapMs * 3) / 2);
      outageAt = Infinity;
      continue;
    }
    const kind = random.pick(faultKinds);
    // The app comes back quickly: the time it takes to start is downtime already.
    const durationMs =
      kind === 'killApp'
        ? random.int(0, 1_000)
        : random.chance(options.longShare)
          ? random.int(options.maxDurationMs, options.maxLongDurationMs)
          : random.int(options.minDurationMs, options.maxDurationMs);
    faults.push({ atMs: at, kind, durationMs });
    at += durationMs + random.int(options.meanGapMs / 2, (options.meanGapMs * 3) / 2);
  }
  return faults;
}

export interface FaultTargets {
  readonly storage: FaultProxy;
  readonly broker: FaultProxy;
  /** Every app instance; a kill hits one of them, chosen by `pickApp`. */
  readonly apps: readonly AppProcess[];
  readonly pickApp?: (count: number) => number;
}

/**
 * Carries out the schedule from `startedAt`, each fault at its time, undone after its duration; faults may overlap
 * (a kill during a broker cut opens the window between recording a job and sending it on purpose). Once `signal` is
 * aborted no new fault starts; those under way run their course. Everything is restored when it returns, also
 * after an error.
 */
export async function runFaults(
  schedule: readonly FaultSpec[],
  targets: FaultTargets,
  {
    startedAt,
    signal,
    log = () => undefined,
  }: { startedAt: number; signal?: AbortSignal; log?: (line: string) => void },
): Promise<FaultEvent[]> {
  const events: FaultEvent[] = [];
  // Every fault waits on the signal at once: as many listeners as faults, which Node would warn of past ten.
  if (signal) setMaxListeners(schedule.length + 1, signal);
  const run = async (fault: FaultSpec): Promise<void> => {
    const wait = startedAt + fault.atMs - Date.now();
    if (wait > 0) await sleep(wait, undefined, { signal }).catch(() => undefined);
    if (signal?.aborted) return;
    const faultStart = Date.now();
    log(`fault ${fault.kind} for ${fault.durationMs} ms at +${faultStart - startedAt} ms`);
    await inject(fault, targets);
    events.push({ ...fault, startedAt: faultStart, endedAt: Date.now() });
  };
  try {
    // Every fault ends before this returns, also when one of them failed.
    const failed = (await Promise.allSettled(schedule.map(run))).find(
      (result) => result.status === 'rejected',
    );
    if (failed) throw failed.reason;
  } finally {
    targets.storage.restore();
    targets.broker.restore();
    for (const app of targets.apps) if (!app.running) await app.start();
  }
  return events.sort((a, b) => a.startedAt - b.startedAt);
}

async function inject(
  { kind, durationMs }: FaultSpec,
  { storage, broker, apps, pickApp = () => 0 }: FaultTargets,
): Promise<void> {
  if (kind === 'killApp') {
    const app = apps[pickApp(apps.length)] as AppProcess;
    await app.kill();
    await sleep(durationMs);
    await app.start();
    return;
  }
  const proxies = [...(cutsOffStorage(kind) ? [storage] : []), ...(cutsOffBroker(kind) ? [broker] : [])];
  for (const proxy of proxies) {
    if (kind.startsWith('cut')) proxy.cut();
    else proxy.blackHole();
  }
  await sleep(durationMs);
  for (const proxy of proxies) proxy.restore();
}

/** Whether a fault of this kind leaves the app without Table Storage while it lasts. */
export function cutsOffStorage(kind: FaultKind): boolean {
  return kind === 'cutBoth' || kind.endsWith('Storage');
}

function cutsOffBroker(kind: FaultKind): boolean {
  return kind === 'cutBoth' || kind.endsWith('Broker');
}
