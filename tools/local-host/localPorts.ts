import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { z } from 'zod';
import { settingsSchema } from '../../src/config';
import { ConfigurationError } from '../../src/jobs/errors';

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

const localServicePortsSchema = z.object({
  SERVICEBUS_EMULATOR_PORT: port(5672),
  AZURITE_TABLE_PORT: port(10002),
  AZURITE_BLOB_PORT: port(10000),
});

/** The ports of the services `npm run start:servicebus` starts beside the app (the app's own is `PORT`). */
export type LocalServicePorts = z.output<typeof localServicePortsSchema>;
export type PortSetting = keyof LocalServicePorts | 'PORT';

export function readLocalServicePorts(env: Readonly<Record<string, string | undefined>>): LocalServicePorts {
  const parsed = localServicePortsSchema.safeParse({
    SERVICEBUS_EMULATOR_PORT: env.SERVICEBUS_EMULATOR_PORT || undefined,
    AZURITE_TABLE_PORT: env.AZURITE_TABLE_PORT || undefined,
    AZURITE_BLOB_PORT: env.AZURITE_BLOB_PORT || undefined,
  });
  if (parsed.success) return parsed.data;
  const setting = String(parsed.error.issues[0]?.path[0]);
  throw new ConfigurationError(
    `${setting} must be a TCP port number from 0 to 65535 (got '${env[setting]}').`,
  );
}

/** Every port a local mode may listen on, by its setting: the app's `PORT` (as the app reads it) and the services'. */
export function readLocalPorts(
  env: Readonly<Record<string, string | undefined>>,
): Record<PortSetting, number> {
  const port = settingsSchema.shape.PORT.safeParse(env.PORT || undefined);
  if (!port.success)
    throw new ConfigurationError(`PORT must be a TCP port number from 0 to 65535 (got '${env.PORT}').`);
  return { PORT: port.data, ...readLocalServicePorts(env) };
}

/**
 * Runs `start`, which listens on the ports of `settings`; when one is taken, fails with one line that names it and
 * the setting that moves it, instead of a stack trace. The port it suggests is free now and given to no other
 * setting (`otherPorts`).
 */
export async function listeningOn<T>(
  settings: Partial<Record<PortSetting, number>>,
  start: () => Promise<T>,
  otherPorts: readonly number[] = [],
): Promise<T> {
  try {
    return await start();
  } catch (error) {
    const taken = error as (NodeJS.ErrnoException & { port?: number }) | undefined;
    if (taken?.code !== 'EADDRINUSE') throw error;
    const [setting, port = 0] =
      Object.entries(settings).find(([, port]) => port === taken.port) ?? Object.entries(settings)[0] ?? [];
    const suggestion = await freePortAfter(port, [...Object.values(settings), ...otherPorts]);
    throw new ConfigurationError(
      `Port ${port} is already in use: set ${setting} to a free port (for example ${setting}=${suggestion}).`,
    );
  }
}

/** The first port after `port` that nothing listens on and that is not `reserved`. */
async function freePortAfter(port: number, reserved: readonly number[]): Promise<number> {
  for (let candidate = port + 1; candidate <= 65_535; candidate++) {
    if (!reserved.includes(candidate) && (await isFree(candidate))) return candidate;
  }
  return 0;
}

/** Whether nothing listens on `port` now. */
export function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, () => probe.close(() => resolve(true)));
  });
}

/** A port nothing listens on now: the OS picks it, and it is handed back at once. */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}
