import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runService } from '../service-process/runService';
import { startServiceBusEmulator } from './serviceBusEmulator';

const DEFAULT_CONFIG = 'infra/local/servicebus-emulator.config.json';

/**
 * `npm run emulator [-- --port 5672 --host 127.0.0.1 --config <Config.json>]`; also the emulator process that
 * `npm run start:servicebus` starts (`runService`).
 */
function main(): void {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '5672' },
      host: { type: 'string', default: '127.0.0.1' },
      config: { type: 'string' },
      'tls-port': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(
      'Usage: npm run emulator -- [--port 5672] [--host 127.0.0.1] [--config <path to Config.json>]\n' +
        '                            [--tls-port 5671 [--tls-cert cert.pem --tls-key key.pem]]',
    );
    return;
  }
  runService(
    async () => {
      const port = portNumber('--port', values.port);
      if (Boolean(values['tls-cert']) !== Boolean(values['tls-key'])) {
        throw new Error('--tls-cert and --tls-key go together');
      }
      const tlsCertificate =
        values['tls-cert'] && values['tls-key']
          ? { cert: readFileSync(values['tls-cert'], 'utf8'), key: readFileSync(values['tls-key'], 'utf8') }
          : undefined;
      if (tlsCertificate && values['tls-port'] === undefined) throw new Error('--tls-cert needs --tls-port');
      const emulator = await startServiceBusEmulator({
        host: values.host,
        port,
        config: values.config ? resolve(values.config) : defaultConfigPath(),
        ...(values['tls-port'] !== undefined
          ? { tls: { port: portNumber('--tls-port', values['tls-port']), certificate: tlsCertificate } }
          : {}),
      });
      // Clients must trust the certificate; a generated one exists only in memory until written out here.
      const certificatePath = emulator.tls
        ? (values['tls-cert'] ?? join(tmpdir(), `servicebus-emulator-${emulator.tls.port}.pem`))
        : undefined;
      if (emulator.tls && !values['tls-cert']) writeFileSync(certificatePath!, emulator.tls.certificate);
      return {
        details: {
          host: emulator.host,
          port: emulator.port,
          connectionString: emulator.connectionString,
          ...(emulator.tls && certificatePath ? { tlsPort: emulator.tls.port, certificatePath } : {}),
        },
        close: () => emulator.close(),
      };
    },
    ({ host, port, tlsPort, certificatePath }) => [
      `Service Bus emulator listening on ${host}:${port}`,
      ...(tlsPort === undefined
        ? []
        : [
            `Service Bus emulator listening with TLS on ${host}:${tlsPort} (certificate: ${certificatePath})`,
          ]),
    ],
  );
}

function portNumber(option: string, text: string | undefined): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`${option} must be a TCP port number, got '${text}'`);
  }
  return port;
}

/** The repository's config, found from the working directory or from this file's place in dist/. */
function defaultConfigPath(): string {
  const candidates = [resolve(DEFAULT_CONFIG), resolve(__dirname, '../../..', DEFAULT_CONFIG)];
  const found = candidates.find((candidate) => existsSync(candidate));
  if (!found) throw new Error(`No --config given and ${DEFAULT_CONFIG} not found`);
  return found;
}

try {
  main();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
