import { parseArgs } from 'node:util';
import { runService } from '../service-process/runService';
import { startAzurite } from './startAzurite';

/**
 * Azurite's Table and Blob services, in memory, in a process of their own: the one `npm run start:servicebus` starts
 * (`node dist/tools/azurite/main.js [--host 127.0.0.1] [--table-port 10002] [--blob-port 10000]`; 0 picks a free
 * port). Azurite's own `azurite-table` and `azurite-blob` would take two processes, report the configured port rather
 * than the one bound (so not a free one picked with 0), and send telemetry unless told not to.
 */
const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    'table-port': { type: 'string', default: '10002' },
    'blob-port': { type: 'string', default: '10000' },
  },
});

runService(
  async () => {
    const azurite = await startAzurite({
      host: values.host,
      tablePort: Number(values['table-port']),
      blobPort: Number(values['blob-port']),
    });
    const { connectionString, tableEndpoint, blobEndpoint } = azurite;
    return { details: { connectionString, tableEndpoint, blobEndpoint }, close: () => azurite.close() };
  },
  ({ tableEndpoint, blobEndpoint }) => [`Azurite listening: Table ${tableEndpoint}, Blob ${blobEndpoint}`],
);
