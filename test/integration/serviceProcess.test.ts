import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { TableClient } from '@azure/data-tables';
import { startServiceProcess } from '../../tools/service-process/startServiceProcess';
import { waitFor } from '../support/waitFor';

const root = resolve(__dirname, '..', '..');
const azuriteEntry = resolve(root, 'tools/azurite/main.ts');
const execArgv = ['-r', resolve(root, 'test/support/registerTypeScript.js')];

interface AzuriteDetails {
  connectionString: string;
  tableEndpoint: string;
  blobEndpoint: string;
  [detail: string]: string;
}

/** Output written to a stream, as text. */
function collected(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { stream, text: () => text };
}

describe('a service in a process of its own (startServiceProcess)', () => {
  it('when it listens, then it resolves with what the service reported, and the service answers there until stopped', async () => {
    const service = await startServiceProcess<AzuriteDetails>(
      'azurite',
      azuriteEntry,
      ['--table-port', '0', '--blob-port', '0'],
      { execArgv },
    );
    const table = TableClient.fromConnectionString(service.details.connectionString, 'services', {
      allowInsecureConnection: true,
      retryOptions: { maxRetries: 0 },
    });
    try {
      await table.createTable();
      await table.createEntity({ partitionKey: 'p', rowKey: 'r', value: 1 });

      expect(await table.getEntity('p', 'r')).toMatchObject({ value: 1 });
      expect(service.details.tableEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1$/);
    } finally {
      await service.stop();
    }
    await expect(table.getEntity('p', 'r')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('when its port is taken, then it rejects with the listen error code and port', async () => {
    const taken = createServer().listen(0, '127.0.0.1');
    await once(taken, 'listening');
    const { port } = taken.address() as AddressInfo;
    try {
      const started = startServiceProcess(
        'azurite',
        azuriteEntry,
        ['--table-port', String(port), '--blob-port', '0'],
        {
          execArgv,
        },
      );

      await expect(started).rejects.toMatchObject({
        name: 'ServiceStartError',
        code: 'EADDRINUSE',
        port,
        message: expect.stringMatching(/^azurite did not start: .*EADDRINUSE/),
      });
    } finally {
      taken.close();
    }
  });

  it('when it ends by itself while running, then it says so on stderr, prefixed with its name', async () => {
    const stderr = collected();
    const service = await startServiceProcess(
      'azurite',
      azuriteEntry,
      ['--table-port', '0', '--blob-port', '0'],
      {
        execArgv,
        stderr: stderr.stream,
      },
    );

    process.kill(service.pid, 'SIGKILL');

    await waitFor(() => stderr.text().includes('[azurite] exited (SIGKILL) while the app still runs'), {
      description: 'the line about the service',
    });
    await service.stop();
  });
});
