import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { resolve } from 'node:path';
import { readServiceBusTriggerSettings } from '../tools/local-host/hostJsonSettings';
import type { CpuProfile } from './cpuProfileSummary';
import { printProfileSummary } from './cpuProfileSummary';
import type { LaneFigures } from './serviceBusThroughput';
import { appPath, rawLoop, startEmulatorProcess } from './serviceBusThroughput';

/**
 * `npm run bench:profile`: one Service Bus lane of `npm run bench` (the app by default, or `-- --lane raw`) under
 * V8's CPU profiler, the profile covering the measured rounds only (the warm-up round and start-up are left out).
 * Writes the `.cpuprofile` (open it in Chrome DevTools or VS Code) and prints where this process's time went: by
 * function, by source file and by package. The emulator runs in its own process and is not in the profile.
 */
async function main(): Promise<void> {
  const lane = argument('--lane') ?? 'app';
  const messages = Number(argument('--messages') ?? 10_000);
  const rounds = Number(argument('--rounds') ?? 3);
  const output = resolve(argument('--out') ?? `bench-${lane}.cpuprofile`);
  if (lane !== 'app' && lane !== 'raw') throw new Error(`--lane is app or raw, not ${lane}`);

  const emulator = await startEmulatorProcess();
  const settings = readServiceBusTriggerSettings();
  const run = (count: number): Promise<LaneFigures> =>
    lane === 'app'
      ? appPath(emulator.connectionString, count)
      : rawLoop(emulator.connectionString, count, settings.maxConcurrentCalls);
  const session = new Session();
  session.connect();
  try {
    await run(messages);
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 200 });
    await session.post('Profiler.start');
    const figures: LaneFigures[] = [];
    for (let round = 0; round < rounds; round += 1) figures.push(await run(messages));
    const { profile } = (await session.post('Profiler.stop')) as { profile: CpuProfile };
    writeFileSync(output, JSON.stringify(profile));
    console.log(
      `${lane} lane, ${messages} messages × ${rounds} rounds under the profiler: msg/s ` +
        `${figures.map((f) => Math.round(f.perSecond)).join(', ')}; client CPU µs/msg ` +
        `${figures.map((f) => f.cpuMicrosPerMessage.toFixed(0)).join(', ')} (the profiler's own cost included)`,
    );
    console.log(`Profile written to ${output}`);
    printProfileSummary(profile, { top: Number(argument('--top') ?? 40) });
  } finally {
    session.disconnect();
    emulator.stop();
  }
}

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
