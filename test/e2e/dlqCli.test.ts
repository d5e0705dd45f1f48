import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalHost } from '../../tools/local-host/localHost';
import type { CliRun } from '../support/cliProcess';
import { runCliProcess } from '../support/cliProcess';
import { embeddedTestSettings } from '../support/embeddedRuntime';
import type { ServiceBusWorld } from '../support/serviceBusApp';
import { serviceBusSettings, startServiceBusWorld } from '../support/serviceBusApp';
import { deadLetterClient } from './deadLetterApiSuite';

/** `npm run dlq -- …` from the TypeScript sources, in its own process, as an operator runs it. */
function dlq(args: string[], env: Record<string, string>): Promise<CliRun> {
  return runCliProcess('dlq', args, env);
}

/**
 * Every command, through the CLI, as an operator uses them: four jobs dead-lettered for two reasons, then `list`
 * with a filter, `replay --reason … --job-type …`, `replay <seq> --payload`, `discard <seq>`, and an empty `list`.
 * Ends with the sub-queue empty, as it started.
 */
async function everyCommand(baseUrl: string, run: (args: string[]) => Promise<CliRun>): Promise<void> {
  const api = deadLetterClient(baseUrl);
  const outOfAttempts = { jobType: 'diagnostics.simulate', payload: { failTimes: 1 }, maxAttempts: 1 };
  const poisoned = { jobType: 'diagnostics.simulate', payload: { poison: true } };
  const [retriedA, retriedB, corrected, discarded] = await Promise.all(
    [outOfAttempts, outOfAttempts, poisoned, poisoned].map((job) => api.submit(job)),
  );
  const items = await Promise.all(
    [retriedA, retriedB, corrected, discarded].map((jobId) => api.deadLettered(jobId!)),
  );
  const sequenceOf = (jobId: string) => items.find((item) => item.jobId === jobId)!.sequenceNumber;

  const listed = await run(['list', '--reason', 'Poisoned']);
  expect(listed).toMatchObject({ code: 0, stderr: '' });
  expect(listed.stdout).toMatch(
    new RegExp(`^${sequenceOf(corrected!)} +${corrected} +diagnostics\\.simulate +Poisoned `, 'm'),
  );
  expect(listed.stdout).toMatch(new RegExp(`^${sequenceOf(discarded!)} +${discarded} `, 'm'));
  expect(listed.stdout).not.toContain(retriedA);
  expect(listed.stdout).toMatch(/^2 shown of 2 matching, 4 read$/m);

  const bulk = await run(['replay', '--reason', 'MaxRetriesExceeded', '--job-type', 'diagnostics.simulate']);
  expect(bulk).toMatchObject({ code: 0, stderr: '' });
  expect(bulk.stdout).toMatch(/^2 replayed, 0 failed\.$/m);
  const one = await run(['replay', sequenceOf(corrected!), '--payload', '{"durationMs":1}']);
  expect(one).toMatchObject({ code: 0, stderr: '' });
  expect(one.stdout).toMatch(
    new RegExp(`Replayed ${sequenceOf(corrected!)}: job ${corrected} is queued again`),
  );
  const dropped = await run(['discard', sequenceOf(discarded!)]);
  expect(dropped).toMatchObject({ code: 0, stderr: '' });
  expect(dropped.stdout).toMatch(
    new RegExp(`Discarded ${sequenceOf(discarded!)} \\(Poisoned, job ${discarded}\\)`),
  );

  for (const jobId of [retriedA!, retriedB!, corrected!]) {
    expect(await api.recordWhen(jobId, (record) => record.status === 'Completed')).toMatchObject({
      deadLetterActions: [{ action: 'Replayed', sequenceNumber: sequenceOf(jobId) }],
    });
  }
  expect((await api.record(discarded!)).deadLetterActions).toMatchObject([
    { action: 'Discarded', sequenceNumber: sequenceOf(discarded!) },
  ]);
  const unknown = await run(['discard', '999999']);
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toMatch(/No dead-lettered message has sequence number 999999/);
  expect((await run(['list'])).stdout).toMatch(/The dead-letter queue is empty/);
}

describe('npm run dlq', () => {
  describe('on Service Bus', () => {
    let world: ServiceBusWorld;

    beforeAll(async () => {
      world = await startServiceBusWorld();
    });

    afterAll(() => world?.close());

    it('when no --url is given, then every command works in-process, through the core', async () => {
      const host = await world.startHost('explicit');
      const env = serviceBusSettings(world.emulator, world.azurite, 'explicit');

      await everyCommand(host.url, (args) => dlq(args, env));
    });

    it('when --url names the running app, then every command works through its HTTP API', async () => {
      const host = await world.startHost('host');
      const env = serviceBusSettings(world.emulator, world.azurite, 'host');

      await everyCommand(host.url, (args) => dlq([...args, '--url', host.url], env));
    });
  });

  describe('in embedded mode', () => {
    const env = { ...embeddedTestSettings };

    it('when the app is running, then every command goes through its HTTP API', async () => {
      const host = await startLocalHost({ env, port: 0 });
      try {
        await everyCommand(host.url, (args) => dlq([...args, '--url', host.url], env));
      } finally {
        await host.close();
      }
    });

    it('when --settings names a settings file, then the CLI reads it instead of ./local.settings.json', async () => {
      const host = await startLocalHost({ env, port: 0 });
      const settings = join(mkdtempSync(join(tmpdir(), 'sdap-dlq-settings-')), 'other.settings.json');
      writeFileSync(settings, JSON.stringify({ Values: { PORT: new URL(host.url).port } }));
      try {
        // No --url: the app's address comes from PORT in that file.
        const listed = await dlq(['list', '--settings', settings], env);

        expect(listed).toMatchObject({ code: 0, stderr: '' });
        expect(listed.stdout).toMatch(/The dead-letter queue is empty/);
      } finally {
        await host.close();
      }
    });

    it('when nothing is listening, then it says so and exits 1; a wrong command exits 2, pointing at --help', async () => {
      const nothing = await dlq(['list', '--url', 'http://127.0.0.1:9'], env);
      const wrong = await dlq(['replay'], env);

      expect(nothing.code).toBe(1);
      expect(nothing.stderr).toMatch(/Nothing is answering at http:\/\/127\.0\.0\.1:9 .*npm start/);
      expect(wrong.code).toBe(2);
      expect(wrong.stderr).toBe(
        "'replay' needs a sequence number, or --reason and/or --job-type.\n" +
          'See `npm run dlq -- --help` for the commands and options.\n',
      );
    });
  });
});
