import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startServiceBusEmulator } from './serviceBusEmulator';

const DEFAULT_CONFIG = 'infra/local/servicebus-emulator.config.json';

/** `npm run emulator [-- --port 5672 --host 127.0.0.1 --config <Config.json>]` */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '5672' },
      host: { type: 'string', default: '127.0.0.1' },
      config: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(
      'Usage: npm run emulator -- [--port 5672] [--host 127.0.0.1] [--config <path to Config.json>]',
    );
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--port must be a TCP port number, got '${values.port}'`);
  }
  const emulator = await startServiceBusEmulator({
    host: values.host,
    port,
    config: values.config ? resolve(values.config) : defaultConfigPath(),
  });
  console.log(`Service Bus emulator listening on ${emulator.host}:${emulator.port}`);

  const stop = () => {
    emulator.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** The repository's config, found from the working directory or from this file's place in dist/. */
function defaultConfigPath(): string {
  const candidates = [resolve(DEFAULT_CONFIG), resolve(__dirname, '../../..', DEFAULT_CONFIG)];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found) throw new Error(`No --config given and ${DEFAULT_CONFIG} not found`);
  return found;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
