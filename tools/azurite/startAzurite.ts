import { join } from 'node:path';
import { findEntitiesByKeys } from './entityLookup';

// Azurite's well-known development account (documented by Microsoft; not a secret).
const account = 'devstoreaccount1';
const accountKey = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

interface AzuriteServer {
  start(): Promise<void>;
  close(): Promise<void>;
  getHttpServerAddress(): string;
  readonly httpServer: { closeAllConnections(): void };
}

type ServerClass = new (configuration: unknown) => AzuriteServer;
type ConfigurationClass = new (...args: unknown[]) => unknown;

export interface StartedAzurite {
  /** A connection string for both services, with the real ports. */
  readonly connectionString: string;
  readonly tableEndpoint: string;
  readonly blobEndpoint: string;
  close(): Promise<void>;
}

export interface AzuriteOptions {
  host?: string;
  /** 0 (the default) picks free ports. */
  tablePort?: number;
  blobPort?: number;
}

/** The development account's connection string for Azurite's Table and Blob services at these endpoints. */
export function azuriteConnectionString(tableEndpoint: string, blobEndpoint: string): string {
  return (
    `DefaultEndpointsProtocol=http;AccountName=${account};AccountKey=${accountKey};` +
    `TableEndpoint=${tableEndpoint};BlobEndpoint=${blobEndpoint};`
  );
}

/** Azurite's endpoint for a service on `port` of this machine, in the development account. */
export const azuriteEndpoint = (port: number) => `http://127.0.0.1:${port}/${account}`;

/**
 * Azurite's Table and Blob services in this process, in memory, on free ports by default: the local stand-in for
 * Azure Storage in tests and in `npm run start:servicebus`. Pinned to a version that runs on Node 20 (3.35).
 */
export async function startAzurite({
  host = '127.0.0.1',
  tablePort = 0,
  blobPort = 0,
}: AzuriteOptions = {}): Promise<StartedAzurite> {
  const azuriteRoot = join(require.resolve('azurite/package.json'), '..', 'dist', 'src');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const load = <T>(path: string): T => (require(join(azuriteRoot, path)) as { default: T }).default;
  findEntitiesByKeys(require.resolve('lokijs', { paths: [azuriteRoot] }));

  const TableServer = load<ServerClass>('table/TableServer');
  const TableConfiguration = load<ConfigurationClass>('table/TableConfiguration');
  const BlobServer = load<ServerClass>('blob/BlobServer');
  const BlobConfiguration = load<ConfigurationClass>('blob/BlobConfiguration');

  // The configurations take positional options. Both end with the same ones: loose mode off, the API version
  // check skipped (the SDKs may be newer than this Azurite), no TLS or OAuth, product-style URLs, in-memory storage.
  const sharedTail = [false, true, '', '', '', undefined, false, true];
  // Before those: host, port, keep-alive, database paths (and blob extent paths), logging switches and streams.
  const table = new TableServer(
    new TableConfiguration(
      host,
      tablePort,
      undefined,
      undefined,
      false,
      false,
      undefined,
      undefined,
      ...sharedTail,
    ),
  );
  const blob = new BlobServer(
    new BlobConfiguration(
      host,
      blobPort,
      undefined,
      undefined,
      undefined,
      undefined,
      false,
      undefined,
      false,
      undefined,
      ...sharedTail,
    ),
  );
  await Promise.all([table.start(), blob.start()]);
  const tableEndpoint = `${table.getHttpServerAddress()}/${account}`;
  const blobEndpoint = `${blob.getHttpServerAddress()}/${account}`;
  return {
    connectionString: azuriteConnectionString(tableEndpoint, blobEndpoint),
    tableEndpoint,
    blobEndpoint,
    close: async () => {
      await Promise.all([table.close(), blob.close()]);
      // Azurite's close does not wait for clients' keep-alive sockets; left open they keep a test worker alive.
      table.httpServer.closeAllConnections();
      blob.httpServer.closeAllConnections();
    },
  };
}
