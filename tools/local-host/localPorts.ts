import { z } from 'zod';
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

/**
 * Runs `start`, which listens on the ports of `settings`; when one is taken, fails with one line that names it and
 * the setting that moves it, instead of a stack trace.
 */
export async function listeningOn<T>(
  settings: Partial<Record<PortSetting, number>>,
  start: () => Promise<T>,
): Promise<T> {
  try {
    return await start();
  } catch (error) {
    const taken = error as (NodeJS.ErrnoException & { port?: number }) | undefined;
    if (taken?.code !== 'EADDRINUSE') throw error;
    const [setting, port] =
      Object.entries(settings).find(([, port]) => port === taken.port) ?? Object.entries(settings)[0] ?? [];
    throw new ConfigurationError(
      `Port ${port} is already in use: set ${setting} to a free port (for example ${setting}=${Number(port) + 1}).`,
    );
  }
}
