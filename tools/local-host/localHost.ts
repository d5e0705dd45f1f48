import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { loadConfig } from '../../src/config';
import type { HttpFunctionDefinition } from '../../src/functions/functionTable';
import { createFunctionTable } from '../../src/functions/functionTable';
import type { JobsRuntime, RuntimeOverrides } from '../../src/runtime';
import { createJobsRuntime } from '../../src/runtime';
import { createLocalHttpServer } from './localHttpServer';

export interface LocalHost {
  readonly url: string;
  readonly port: number;
  readonly runtime: JobsRuntime;
  /** Graceful: stops taking requests and work, lets in-flight jobs finish up to the shutdown deadline. */
  close(): Promise<void>;
}

export interface LocalHostOptions {
  env: Readonly<Record<string, string | undefined>>;
  /** Overrides `PORT`; 0 picks a free port. */
  port?: number;
  host?: string;
  overrides?: RuntimeOverrides;
}

/**
 * Runs the app without Core Tools: the same function table the Functions host registers, behind a local HTTP
 * server, with the embedded queue processed in-process.
 */
export async function startLocalHost({
  env,
  port,
  host = '127.0.0.1',
  overrides,
}: LocalHostOptions): Promise<LocalHost> {
  const config = loadConfig(env);
  const runtime = createJobsRuntime(config, overrides);
  const http = createFunctionTable(runtime).filter(
    (definition): definition is HttpFunctionDefinition => definition.kind === 'http',
  );
  const server = createLocalHttpServer(http, runtime.logger);
  server.listen(port ?? config.port, host);
  await once(server, 'listening');
  runtime.start();
  const actualPort = (server.address() as AddressInfo).port;
  const url = `http://${host}:${actualPort}`;
  runtime.logger.info('Local host listening', {
    url: `${url}/api`,
    functions: http.map((definition) => definition.name),
  });

  let closing: Promise<void> | undefined;
  return {
    url,
    port: actualPort,
    runtime,
    close: () =>
      (closing ??= (async () => {
        const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await runtime.stop();
        server.closeAllConnections();
        await serverClosed;
      })()),
  };
}
