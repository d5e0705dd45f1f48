import type { ChildProcess } from 'node:child_process';
import type { AddressInfo, Server } from 'node:net';
import { createServer } from 'node:net';
import { once } from 'node:events';
import { isSettled, jobRecordWhen, postJobs } from '../support/jobApi';
import type { LocalHostProcess } from '../support/localHostProcess';
import { spawnLocalMode, startLocalHostProcess } from '../support/localHostProcess';
import { waitFor } from '../support/waitFor';
import { freePort, isFree } from '../../tools/local-host/localPorts';

async function occupiedPort(): Promise<Server> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

/**
 * A port held open whose next port is free now: the test gives the next one to another setting, and the OS hands
 * ports out to other processes' connections too (one such clash named the other setting instead).
 */
async function occupiedPortBeforeAFreeOne(): Promise<Server> {
  for (;;) {
    const server = await occupiedPort();
    if (await isFree((server.address() as AddressInfo).port + 1)) return server;
    server.close();
    await once(server, 'close');
  }
}

/** Runs a local mode that is expected to stop by itself; its exit code and output. */
async function runToExit(child: ChildProcess) {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

describe('local modes', () => {
  it('when two `npm run start:servicebus` run side by side on ports from settings, then each runs jobs on its own services', async () => {
    const settings = async () => ({
      PORT: String(await freePort()),
      SERVICEBUS_EMULATOR_PORT: String(await freePort()),
      AZURITE_TABLE_PORT: String(await freePort()),
      AZURITE_BLOB_PORT: String(await freePort()),
      Jobs__EnableDiagnostics: 'true',
    });
    const [first, second] = [await settings(), await settings()];
    const apps: LocalHostProcess[] = [];
    try {
      apps.push(await startLocalHostProcess(first, 'mainServiceBus'));
      apps.push(await startLocalHostProcess(second, 'mainServiceBus'));

      for (const [app, ports] of [
        [apps[0]!, first],
        [apps[1]!, second],
      ] as const) {
        expect(app.url).toBe(`http://127.0.0.1:${ports.PORT}`);
        const health = (await (await fetch(`${app.url}/api/health`)).json()) as { mode: string };
        expect(health.mode).toBe('service-bus');
        const response = await postJobs(app.url, { jobType: 'diagnostics.simulate', payload: {} });
        const { jobId } = (await response.json()) as { jobId: string };
        expect(await jobRecordWhen(app.url, jobId, isSettled)).toMatchObject({ status: 'Completed' });
      }
    } finally {
      await Promise.all(apps.map((app) => app.stop('SIGTERM')));
    }
  });

  it.each([
    ['main', 'PORT'],
    ['mainServiceBus', 'PORT'],
    ['mainServiceBus', 'SERVICEBUS_EMULATOR_PORT'],
    ['mainServiceBus', 'AZURITE_TABLE_PORT'],
    ['mainServiceBus', 'AZURITE_BLOB_PORT'],
  ] as const)(
    "when %s finds %s taken, then it exits 1 with one line naming the port, the setting, and a port that is free and no other setting's",
    async (entry, setting) => {
      const taken = await occupiedPortBeforeAFreeOne();
      const { port } = taken.address() as AddressInfo;
      try {
        const ports: Record<string, string> = {
          PORT: String(await freePort()),
          SERVICEBUS_EMULATOR_PORT: String(await freePort()),
          AZURITE_TABLE_PORT: String(await freePort()),
          AZURITE_BLOB_PORT: String(await freePort()),
          [setting]: String(port),
        };
        // The next port is another setting's: suggesting it would only move the clash.
        const other = Object.keys(ports).find((name) => name !== setting)!;
        ports[other] = String(port + 1);
        const run = await runToExit(spawnLocalMode(entry, ports));

        expect(run.code).toBe(1);
        const line = new RegExp(
          `^Port ${port} is already in use: set ${setting} to a free port \\(for example ${setting}=(\\d+)\\)\\.\\n$`,
        );
        expect(run.stderr).toMatch(line);
        const suggested = Number(line.exec(run.stderr)![1]);
        expect(suggested).toBeGreaterThan(port + 1);
        expect(Object.values(ports)).not.toContain(String(suggested));
        expect(await isFree(suggested)).toBe(true);
      } finally {
        taken.close();
      }
    },
  );

  describe('`npm run start:servicebus` runs the emulator and Azurite in processes of their own', () => {
    const servicePorts = async () => ({
      PORT: String(await freePort()),
      SERVICEBUS_EMULATOR_PORT: String(await freePort()),
      AZURITE_TABLE_PORT: String(await freePort()),
      AZURITE_BLOB_PORT: String(await freePort()),
    });

    it('when Ctrl+C reaches the whole process group, then the running job finishes on the services before they stop, and every port is free once it has exited', async () => {
      const ports = await servicePorts();
      const app = await startLocalHostProcess(
        { ...ports, Jobs__EnableDiagnostics: 'true' },
        'mainServiceBus',
        { group: true },
      );
      const response = await postJobs(app.url, {
        jobType: 'diagnostics.simulate',
        payload: { durationMs: 1500 },
      });
      const { jobId } = (await response.json()) as { jobId: string };
      await jobRecordWhen(app.url, jobId, (record) => record.status === 'Running');

      const code = await app.stop('SIGINT');

      expect(code).toBe(0);
      expect(JSON.parse(app.stdoutLines.at(-1)!)).toMatchObject({
        message: 'Stopped; 1 of 1 running job finished',
        running: 1,
        interrupted: 0,
      });
      for (const port of Object.values(ports)) expect(await isFree(Number(port))).toBe(true);
    });

    it('when it is killed outright, then the emulator and Azurite stop with it and free their ports', async () => {
      const ports = await servicePorts();
      const app = await startLocalHostProcess(ports, 'mainServiceBus');
      const { SERVICEBUS_EMULATOR_PORT, AZURITE_TABLE_PORT, AZURITE_BLOB_PORT } = ports;
      const services = [SERVICEBUS_EMULATOR_PORT, AZURITE_TABLE_PORT, AZURITE_BLOB_PORT].map(Number);
      for (const port of services) expect(await isFree(port)).toBe(false);

      await app.stop('SIGKILL');

      await waitFor(async () => (await Promise.all(services.map(isFree))).every(Boolean), {
        timeoutMs: 10_000,
        intervalMs: 50,
        description: "the services' ports to be free",
      });
    });
  });
});
