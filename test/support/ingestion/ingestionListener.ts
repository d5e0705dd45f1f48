import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { waitFor } from '../waitFor';

/** The certificate the listener serves; a process trusts it through `NODE_EXTRA_CA_CERTS`. */
const ingestionCertificatePath = resolve(__dirname, 'cert.pem');

/** One Application Insights envelope as the exporter posts it to `…/v2.1/track`. */
export interface Envelope {
  readonly name: string;
  readonly time: string;
  readonly iKey: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly data: {
    readonly baseType: string;
    readonly baseData: Readonly<Record<string, unknown>> & {
      readonly name?: string;
      readonly properties?: Readonly<Record<string, string>>;
      readonly measurements?: Readonly<Record<string, number>>;
    };
  };
}

/**
 * A local stand-in for the Application Insights ingestion endpoint: it accepts what the exporter sends and keeps
 * every envelope, raw text included, for assertions. HTTPS, because the exporter upgrades any `http://` ingestion
 * endpoint to `https://`.
 */
export async function startIngestionListener() {
  const envelopes: Envelope[] = [];
  const bodies: string[] = [];
  const server = createServer(
    { cert: readFileSync(ingestionCertificatePath), key: readFileSync(resolve(__dirname, 'key.pem')) },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const text = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
        const received = parseEnvelopes(text);
        if (req.url?.endsWith('/v2.1/track')) {
          bodies.push(text);
          envelopes.push(...received);
        }
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(
          JSON.stringify({ itemsReceived: received.length, itemsAccepted: received.length, errors: [] }),
        );
      });
    },
  );
  server.listen(0, '127.0.0.1');
  await new Promise((resolveListening) => server.once('listening', resolveListening));
  const { port } = server.address() as AddressInfo;
  const instrumentationKey = '11111111-2222-3333-4444-555555555555';
  return {
    envelopes,
    /** Every request body received, as text: for asserting what must never be sent. */
    bodies,
    connectionString: `InstrumentationKey=${instrumentationKey};IngestionEndpoint=https://127.0.0.1:${port}/`,
    /** Environment for a process that sends here. */
    env(): Record<string, string> {
      return {
        APPLICATIONINSIGHTS_CONNECTION_STRING: this.connectionString,
        NODE_EXTRA_CA_CERTS: ingestionCertificatePath,
        // Export quickly, so tests wait for conditions instead of for the SDK's batching intervals.
        OTEL_BLRP_SCHEDULE_DELAY: '100',
        OTEL_BSP_SCHEDULE_DELAY: '100',
        OTEL_METRIC_EXPORT_INTERVAL: '500',
        APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL: 'true',
      };
    },
    async waitForEnvelope(description: string, match: (envelope: Envelope) => boolean, timeoutMs = 20_000) {
      return waitFor(() => envelopes.find(match), { timeoutMs, intervalMs: 50, description });
    },
    close: () => new Promise<void>((resolveClose) => server.close(() => resolveClose())),
  };
}

export type IngestionListener = Awaited<ReturnType<typeof startIngestionListener>>;

function parseEnvelopes(text: string): Envelope[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) return JSON.parse(trimmed) as Envelope[];
  return trimmed
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Envelope);
}
