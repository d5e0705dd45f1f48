import { parseArgs } from 'node:util';
import type { Settlement, SoakResult } from './soakRun';
import { runSoak } from './soakRun';
import { SeededRandom } from './seededRandom';

const usage =
  'Usage: npm run soak -- [--jobs 10000] [--seed <n>] [--mode host|explicit|both] [--rate 40] ' +
  '[--settle-seconds 300] [--max-minutes 45] [--reconciler soak|defaults] [--broker-outage-seconds 60] [--instances 1]';

interface SoakArguments {
  jobs: number;
  seed: number;
  modes: Settlement[];
  rate: number;
  settleTimeoutMs: number;
  maxMinutes: number;
  reconciler: 'soak' | 'defaults';
  brokerOutageMs: number;
  instances: number;
}

/**
 * `npm run soak`: 10,000 jobs per settlement mode, in both modes, under repeated seeded faults; prints each mode's
 * counts with the seed that reproduces them. Exit code 0 when every count is 0, 1 when one is not or the run
 * failed, 2 for a wrong command line.
 */
async function main(): Promise<number> {
  let args: SoakArguments | 'help';
  try {
    args = parseSoakArguments();
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${usage}`);
    return 2;
  }
  if (args === 'help') {
    console.log(usage);
    return 0;
  }
  // Every phase of a run is bounded; this bounds the sum, whatever happens.
  setTimeout(() => {
    console.error(`soak: still running after ${args.maxMinutes} minutes; giving up (seed ${args.seed})`);
    process.exit(1);
  }, args.maxMinutes * 60_000).unref();

  console.log(`soak: seed ${args.seed}, ${args.jobs} jobs per mode, modes ${args.modes.join(', ')}`);
  const results: SoakResult[] = [];
  for (const settlement of args.modes) {
    const result = await runSoak({
      settlement,
      jobs: args.jobs,
      seed: args.seed,
      rate: args.rate,
      settleTimeoutMs: args.settleTimeoutMs,
      reconciler: args.reconciler,
      instances: args.instances,
      faultPlan: { brokerOutageMs: args.brokerOutageMs },
      log: (line) => console.log(`[${new Date().toISOString()}] ${line}`),
    });
    results.push(result);
    console.log(result.summary);
    console.log(`endings: ${result.endings}`);
    if (result.failed) console.log(result.examples);
  }
  console.log('\nsummary:');
  for (const result of results) console.log(result.summary);
  return results.some((result) => result.failed) ? 1 : 0;
}

function parseSoakArguments(): SoakArguments | 'help' {
  const { values } = parseArgs({
    options: {
      jobs: { type: 'string', default: '10000' },
      seed: { type: 'string' },
      mode: { type: 'string', default: 'both' },
      rate: { type: 'string', default: '40' },
      'settle-seconds': { type: 'string', default: '300' },
      'max-minutes': { type: 'string', default: '45' },
      reconciler: { type: 'string', default: 'soak' },
      'broker-outage-seconds': { type: 'string', default: '60' },
      instances: { type: 'string', default: '1' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return 'help';
  const mode = values.mode;
  if (mode !== 'host' && mode !== 'explicit' && mode !== 'both') {
    throw new Error(`--mode must be host, explicit or both, got '${mode}'`);
  }
  const reconciler = values.reconciler;
  if (reconciler !== 'soak' && reconciler !== 'defaults') {
    throw new Error(`--reconciler must be soak or defaults, got '${reconciler}'`);
  }
  return {
    reconciler,
    instances: positiveInteger('--instances', values.instances),
    brokerOutageMs: nonNegativeInteger('--broker-outage-seconds', values['broker-outage-seconds']) * 1000,
    jobs: positiveInteger('--jobs', values.jobs),
    seed: values.seed === undefined ? SeededRandom.newSeed() : nonNegativeInteger('--seed', values.seed),
    modes: mode === 'both' ? ['host', 'explicit'] : [mode],
    rate: positiveInteger('--rate', values.rate),
    settleTimeoutMs: positiveInteger('--settle-seconds', values['settle-seconds']) * 1000,
    maxMinutes: positiveInteger('--max-minutes', values['max-minutes']),
  };
}

function positiveInteger(name: string, text: string): number {
  const value = nonNegativeInteger(name, text);
  if (value === 0) throw new Error(`${name} must be at least 1`);
  return value;
}

function nonNegativeInteger(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0)
    throw new Error(`${name} must be a whole number, got '${text}'`);
  return value;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('soak: the run itself failed:', error);
    process.exit(1);
  },
);
