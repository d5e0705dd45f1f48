import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { startLocalHost } from '../../tools/local-host/localHost';
import { embeddedTestSettings } from '../support/embeddedRuntime';
import type { ServiceBusWorld } from '../support/serviceBusApp';
import { serviceBusSettings, startServiceBusWorld } from '../support/serviceBusApp';
import { deadLetterClient } from './deadLetterApiSuite';

const root = resolve(__dirname, '..', '..');

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npm run dlq -- …` from the TypeScript sources, in its own process, as an operator runs it. */
function dlq(args: string[], env: Record<string, string>): Promise<CliRun> {
  const child = spawn(
    process.execPath,
    [
      '-r',
      resolve(__dirname, '../support/registerTypeScript.js'),
      resolve(root, 'tools/dlq/main.ts'),
      ...args,
    ],
    { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolveRun) => child.once('close', (code) => resolveRun({ code, stdout, stderr })));
}

describe('npm run dlq', () => {
  describe('on Service Bus', () => {
    let world: ServiceBusWorld;

    beforeAll(async () => {
      world = await startServiceBusWorld();
    });

    afterAll(() => world?.close());

    it('when a job is dead-lettered, then `list` shows it in a table and `replay <seq>` sends it back to completion', async () => {
      const host = await world.startHost('explicit');
      const api = deadLetterClient(host.url);
      const jobId = await api.submit({
        jobType: 'diagnostics.simulate',
        payload: { failTimes: 1 },
        maxAttempts: 1,
      });
      const item = await api.deadLettered(jobId);
      const env = serviceBusSettings(world.emulator, world.azurite, 'explicit');

      const listed = await dlq(['list'], env);
      const replayed = await dlq(['replay', item.sequenceNumber], env);
      const unknown = await dlq(['discard', '999999'], env);

      expect(listed.code).toBe(0);
      expect(listed.stdout).toMatch(/^SEQ +JOB ID +JOB TYPE +REASON +ATTEMPTS/);
      expect(listed.stdout).toMatch(
        new RegExp(`^${item.sequenceNumber} +${jobId} +diagnostics\\.simulate +MaxRetriesExceeded +1 `, 'm'),
      );
      expect(listed.stdout).toMatch(/^By reason: +MaxRetriesExceeded 1$/m);
      expect(replayed).toMatchObject({ code: 0, stderr: '' });
      expect(replayed.stdout).toMatch(
        new RegExp(`Replayed ${item.sequenceNumber}: job ${jobId} is queued again`),
      );
      expect(await api.recordWhen(jobId, (record) => record.status === 'Completed')).toMatchObject({
        deadLetterActions: [{ action: 'Replayed', sequenceNumber: item.sequenceNumber }],
      });
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toMatch(/No dead-lettered message has sequence number 999999/);
      expect((await dlq(['list'], env)).stdout).toMatch(/The dead-letter queue is empty/);
    });
  });

  describe('in embedded mode', () => {
    const env = { ...embeddedTestSettings };

    it('when the app is running, then the CLI goes through its HTTP API', async () => {
      const host = await startLocalHost({ env, port: 0 });
      try {
        const api = deadLetterClient(host.url);
        const jobId = await api.submit({ jobType: 'diagnostics.simulate', payload: { poison: true } });
        const item = await api.deadLettered(jobId);

        const discarded = await dlq(['discard', item.sequenceNumber, '--url', host.url], env);

        expect(discarded.code).toBe(0);
        expect(discarded.stdout).toMatch(
          new RegExp(`Discarded ${item.sequenceNumber} \\(Poisoned, job ${jobId}\\)`),
        );
        expect((await api.list()).scanned).toBe(0);
      } finally {
        await host.close();
      }
    });

    it('when nothing is listening, then it says so and exits 1; a wrong command exits 2 with the usage', async () => {
      const nothing = await dlq(['list', '--url', 'http://127.0.0.1:9'], env);
      const wrong = await dlq(['replay'], env);

      expect(nothing.code).toBe(1);
      expect(nothing.stderr).toMatch(/Nothing is answering at http:\/\/127\.0\.0\.1:9 .*npm start/);
      expect(wrong.code).toBe(2);
      expect(wrong.stderr).toMatch(/'replay' needs a sequence number[\s\S]*Usage: npm run dlq/);
    });
  });
});
