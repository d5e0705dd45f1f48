import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HttpMethod } from '@azure/functions';
import { createFunctionTable } from '../../src/functions/functionTable';
import { RouteTable } from '../../src/functions/routeTemplate';
import { createLogger } from '../../src/jobs/support/logger';
import type { StartedAzurite } from '../../tools/azurite/startAzurite';
import { startAzurite } from '../../tools/azurite/startAzurite';
import type { LocalHost } from '../../tools/local-host/localHost';
import { startLocalHost } from '../../tools/local-host/localHost';
import { embeddedTestSettings } from '../support/embeddedRuntime';
import type { RawAnswer } from '../support/rawHttp';
import { sendRequest } from '../support/rawHttp';
import { startServiceBusWorld } from '../support/serviceBusApp';
import { waitFor } from '../support/waitFor';

/**
 * A hostile client against every route: every parameter, bad encodings, bad tokens, HEAD and OPTIONS, wrong methods,
 * bad JSON and wrong content types. Each answer must be below 500, one that docs/api.md#answers-by-route lists for
 * its request, and, when a 4xx, a problem document. The inputs are drawn from a seeded generator: a failure names
 * the seed (`HOSTILE_SEED=<n>` runs another draw).
 */

const seed = Number(process.env['HOSTILE_SEED'] ?? 24);

// ---- What the docs promise ----------------------------------------------------------------------------------------

interface DocumentedRoute {
  readonly route: string;
  readonly methods: HttpMethod[];
  readonly answers: ReadonlyMap<HttpMethod, ReadonlySet<number>>;
}

/** The table of docs/api.md#answers-by-route, with HEAD answering as GET and OPTIONS as 204 on every route. */
function documentedRoutes(): DocumentedRoute[] {
  const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'api.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Answers by route'));
  const byRoute = new Map<string, Map<HttpMethod, Set<number>>>();
  for (const [, method, route, answers] of section.matchAll(
    /^\| `([A-Z]+) \/api\/([^`]+)`\s*\| ([\d, ]+?)\s*\|$/gm,
  )) {
    const statuses = new Set(answers!.split(',').map((status) => Number(status.trim())));
    const methods = byRoute.get(route!) ?? new Map<HttpMethod, Set<number>>();
    methods.set(method as HttpMethod, statuses);
    if (method === 'GET') methods.set('HEAD', statuses);
    methods.set('OPTIONS', new Set([204]));
    byRoute.set(route!, methods);
  }
  return [...byRoute].map(([route, answers]) => ({ route, methods: [...answers.keys()], answers }));
}

const documented = documentedRoutes();
const routeTable = new RouteTable(documented);

/** What the docs allow for a request: the answers of the route that takes it, 405 on a path of another method, else 404. */
function allowedAnswers(method: string, path: string): ReadonlySet<number> {
  const matches = routeTable.match(path);
  const taking = matches.find(({ definition }) => definition.methods.includes(method as HttpMethod));
  if (taking) return taking.definition.answers.get(method as HttpMethod)!;
  return new Set([matches.length > 0 ? 405 : 404]);
}

// ---- A seeded generator ---------------------------------------------------------------------------------------------

/** mulberry32: small, fast, and the same sequence for the same seed on every machine. */
function generator(initial: number) {
  let state = initial >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
    sample: <T>(items: readonly T[], count: number): T[] =>
      items
        .map((item) => ({ item, key: next() }))
        .sort((a, b) => a.key - b.key)
        .slice(0, count)
        .map(({ item }) => item),
  };
}

// ---- Hostile inputs ---------------------------------------------------------------------------------------------------

const tokens = [
  'garbage',
  'eyJ4IjoxfQ', // {"x":1}
  '%00',
  'e30', // {}
  'eyJ2IjoxLCJjdXJzb3IiOnt9fQ', // {"v":1,"cursor":{}}
  'eyJ2IjoyLCJjdXJzb3IiOnt9fQ', // {"v":2,"cursor":{}}
  // {"v":1,"cursor":{"partition":"index-2026-02-30","after":"","daysLeft":5}}: a day that does not exist.
  Buffer.from(
    JSON.stringify({ v: 1, cursor: { partition: 'index-2026-02-30', after: '', daysLeft: 5 } }),
  ).toString('base64url'),
  // A cursor of the right shape whose service token names keys the service never gave.
  Buffer.from(
    JSON.stringify({
      v: 1,
      cursor: {
        partition: 'index-2026-01-01',
        after: '',
        daysLeft: 3,
        serviceToken: Buffer.from(JSON.stringify({ nextPartitionKey: '\u0000', nextRowKey: '!!' })).toString(
          'base64',
        ),
      },
    }),
  ).toString('base64url'),
  Buffer.from(JSON.stringify({ v: 1, cursor: { submittedMs: -5, jobId: 'x' } })).toString('base64url'),
  Buffer.from(JSON.stringify({ v: 1, cursor: { submittedMs: 1e300, jobId: 'x' } })).toString('base64url'),
  'A'.repeat(5000),
];

const queryValues = [
  '',
  'Bogus',
  '0x10',
  '1e1',
  '-1',
  '0',
  '1',
  '20',
  '720',
  '1001',
  '%2B5',
  '5.0',
  '%zz',
  '%00',
  '%C0%AF',
  '%FF',
  '%E2%82%AC',
  '%20x',
  '+',
  'x'.repeat(10_000),
  'Queued',
  'Cancelled',
  'MaxRetriesExceeded',
  'Poisoned',
  'diagnostics.simulate',
  '%20diagnostics.simulate',
  'diagnostics.simulate%20',
  ...tokens,
];

const queryNames = [
  'status',
  'jobType',
  'limit',
  'continuationToken',
  'reason',
  'hours',
  'code',
  'stauts',
  'verbose',
];

const pathValues = [
  '00000000-0000-0000-0000-000000000000',
  'abc',
  '.',
  '%2e',
  '..',
  '%2e%2e',
  'a%2Fb',
  '%zz',
  '%00',
  '%C0%AF',
  '%FF',
  '%E2%82%AC',
  '%20',
  '-1',
  '0',
  '1',
  '99999999999999999999999',
  'x'.repeat(5000),
  'replay',
  'discard',
  'dashboard.css',
  'index.html',
];

const deepArray = `${'['.repeat(50_000)}${']'.repeat(50_000)}`;
const bodies: (string | Buffer)[] = [
  '',
  '{',
  '[',
  'null',
  '"x"',
  '1',
  'true',
  '{}',
  '[]',
  '{"jobType":1}',
  '{"jobType":" diagnostics.simulate","payload":{}}',
  '{"jobType":"diagnostics.simulate","payload":{"durationMs":1}}',
  '{"jobType":"diagnostics.simulate","payload":null}',
  '{"jobType":"diagnostics.simulate"}',
  '{"jobType":"diagnostics.simulate","payload":{"durationMs":1e308}}',
  '{"jobType":"diagnostics.simulate","maxAttempts":1e400}',
  '{"jobType":"diagnostics.simulate","payload":{"note":"\\u0000\\ud800"}}',
  '{"__proto__":{"polluted":true},"jobType":"diagnostics.simulate"}',
  `[${Array.from({ length: 101 }, () => '{"jobType":"diagnostics.simulate"}').join(',')}]`,
  `{"jobType":"diagnostics.simulate","payload":{"note":${JSON.stringify('x'.repeat(300_000))}}}`,
  `{"jobType":"diagnostics.simulate","payload":{"note":${deepArray}}}`,
  deepArray,
  '{"reason":"Bogus"}',
  '{"reason":"Poisoned"}',
  '{"jobType":" x"}',
  '{"payload":{"durationMs":"soon"}}',
  '{"all":false}',
  Buffer.from([0xef, 0xbb, 0xbf, ...Buffer.from('{"jobType":"diagnostics.simulate"}')]),
  Buffer.from([0xff, 0xfe, 0x7b, 0x00, 0x7d, 0x00]),
  Buffer.alloc(1_100_000, 0x20),
];

const contentTypes = [
  'application/json',
  'application/json; charset=utf-8',
  'application/problem+json',
  undefined,
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/jsonx',
  'application/json; charset=utf-16',
];

const methods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'PROPFIND'];

interface HostileRequest {
  readonly method: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
}

/** Every route's path with its parameters filled in by `fill`. */
function pathOf(route: string, fill: (name: string) => string): string {
  return `/api/${route.replace(/\{(\w+)\}/g, (_, name: string) => fill(name))}`;
}

function hostileRequests(valid: Record<string, string>): HostileRequest[] {
  const random = generator(seed);
  const requests: HostileRequest[] = [];
  const validPath = (route: string) => pathOf(route, (name) => valid[name] ?? 'x');
  for (const { route, methods: routeMethods } of documented) {
    const own = routeMethods.filter((method) => method !== 'OPTIONS');
    // Every method, on the route's own path.
    for (const method of methods) requests.push({ method, path: validPath(route) });
    // Every path parameter, hostile.
    if (route.includes('{')) {
      for (const value of pathValues) {
        for (const method of own) requests.push({ method, path: pathOf(route, () => value) });
      }
    }
    // Every query parameter, alone, empty, twice, and with hostile values.
    for (const method of own) {
      for (const name of queryNames) {
        for (const value of random.sample(queryValues, 6)) {
          requests.push({ method, path: `${validPath(route)}?${name}=${value}` });
        }
        requests.push({ method, path: `${validPath(route)}?${name}=1&${name}=1` });
        requests.push({ method, path: `${validPath(route)}?${name}&${name}=` });
      }
      requests.push({ method, path: `${validPath(route)}?%zz=1&=&&` });
    }
    // Bodies and content types, on the routes that take a body.
    if (own.includes('POST')) {
      for (const body of bodies) {
        const contentType = random.pick(contentTypes);
        requests.push({
          method: 'POST',
          path: validPath(route),
          headers: contentType === undefined ? {} : { 'content-type': contentType },
          body,
        });
        requests.push({
          method: 'POST',
          path: validPath(route),
          headers: { 'content-type': 'application/json' },
          body,
        });
      }
    }
  }
  // Headers the submission reads.
  for (const key of ['', ' ', 'x'.repeat(300), 'k:1']) {
    requests.push({
      method: 'POST',
      path: '/api/jobs',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: '{"jobType":"diagnostics.simulate"}',
    });
  }
  for (const traceparent of [
    'garbage',
    `00-${'0'.repeat(32)}-${'0'.repeat(16)}-01`,
    `ff-${'a'.repeat(32)}-${'b'.repeat(16)}-01`,
  ]) {
    requests.push({ method: 'GET', path: '/api/health', headers: { traceparent } });
  }
  // Listings paged with tokens: every token, on the one route that takes one.
  for (const token of tokens)
    requests.push({ method: 'GET', path: `/api/jobs?limit=1&continuationToken=${token}` });
  return requests;
}

// ---- The checks ----------------------------------------------------------------------------------------------------

function describeRequest({ method, path, headers, body }: HostileRequest): string {
  const shown = (text: string) => (text.length > 120 ? `${text.slice(0, 120)}…(${text.length})` : text);
  const bodyText =
    body === undefined ? '' : ` body=${shown(Buffer.isBuffer(body) ? `<${body.length} bytes>` : body)}`;
  return `${method} ${shown(path)}${headers ? ` ${JSON.stringify(headers).slice(0, 120)}` : ''}${bodyText}`;
}

function faultsOf(request: HostileRequest, answer: RawAnswer): string[] {
  const faults: string[] = [];
  const allowed = allowedAnswers(request.method, request.path.split('?')[0]!);
  if (answer.status >= 500) faults.push(`answered ${answer.status}: ${answer.body.slice(0, 300)}`);
  else if (!allowed.has(answer.status))
    faults.push(`answered ${answer.status}, not one of the documented ${[...allowed].join(', ')}`);
  if (answer.status >= 400 && answer.status < 500) {
    if (answer.headers['content-type'] !== 'application/problem+json')
      faults.push(`a ${answer.status} as ${answer.headers['content-type']}, not a problem document`);
    if (request.method !== 'HEAD') {
      try {
        const problem = JSON.parse(answer.body) as { status?: unknown; title?: unknown; detail?: unknown };
        if (
          problem.status !== answer.status ||
          typeof problem.title !== 'string' ||
          typeof problem.detail !== 'string'
        )
          faults.push(`a problem document without status, title and detail: ${answer.body.slice(0, 200)}`);
      } catch {
        faults.push(`a ${answer.status} whose body is not JSON: ${answer.body.slice(0, 200)}`);
      }
    }
  }
  if (request.method === 'HEAD' && answer.body !== '') faults.push('a HEAD answered with content');
  if (/\n\s+at .+:\d+:\d+\)?/.test(answer.body)) faults.push('a stack trace in the body');
  return faults;
}

// ---- The stacks -----------------------------------------------------------------------------------------------------

interface Stack {
  readonly host: LocalHost;
  close(): Promise<void>;
}

/** Log lines that mean the server, not the client, failed. */
const serverFailures = /Local host failed to serve a request|Unexpected error while handling a request/;

const stacks: Array<[string, (log: (line: string) => void) => Promise<Stack>]> = [
  [
    'embedded, job records in Table Storage (Azurite)',
    async (log) => {
      const azurite: StartedAzurite = await startAzurite();
      const host = await startLocalHost({
        env: { ...embeddedTestSettings, Jobs__Store: 'table', JobsStorage: azurite.connectionString },
        port: 0,
        overrides: { logger: createLogger('warn', { write: log }) },
      });
      return {
        host,
        close: async () => {
          await host.close();
          await azurite.close();
        },
      };
    },
  ],
  [
    'Service Bus (the emulator, explicit settlement) and Azurite',
    async (log) => {
      const world = await startServiceBusWorld();
      const host = await world.startHost('explicit', {}, { logger: createLogger('warn', { write: log }) });
      return { host, close: () => world.close() };
    },
  ],
];

describe.each(stacks)('a hostile client against every route: %s', (_, start) => {
  let stack: Stack;
  const lines: string[] = [];

  beforeAll(async () => {
    stack = await start((line) => lines.push(line));
  }, 120_000);

  afterAll(() => stack?.close(), 120_000);

  it(`when every route gets hostile requests (seed ${seed}), then no answer is a 5xx or undocumented, and every 4xx is a problem document`, async () => {
    const url = stack.host.url;
    const submitted = await sendRequest(url, {
      method: 'POST',
      path: '/api/jobs',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jobType: 'diagnostics.simulate', payload: { poison: true } }),
    });
    const jobId = (JSON.parse(submitted.body) as { jobId: string }).jobId;
    const sequenceNumber = await waitFor(
      async () => {
        const listing = await sendRequest(url, { method: 'GET', path: '/api/deadletters' });
        const items = (JSON.parse(listing.body) as { items: { sequenceNumber: string }[] }).items;
        return items[0]?.sequenceNumber;
      },
      { timeoutMs: 20_000, intervalMs: 50, description: 'a dead-lettered job' },
    );
    const requests = hostileRequests({ jobId, sequenceNumber, asset: 'dashboard.css' });
    // The docs' table covers every route the app has, each method of it.
    const served = new Set(
      createFunctionTable(stack.host.runtime).flatMap((definition) =>
        definition.kind === 'http' ? definition.methods.map((method) => `${method} ${definition.route}`) : [],
      ),
    );
    const inDocs = new Set(
      documented.flatMap(({ route, methods }) => methods.map((method) => `${method} ${route}`)),
    );
    expect([...inDocs].sort()).toEqual([...served].sort());

    const faults: string[] = [];
    // A few at a time, as a client with a small pool would: enough to overlap, not enough to make the run slow.
    for (let start = 0; start < requests.length; start += 8) {
      const batch = requests.slice(start, start + 8);
      const answers = await Promise.all(batch.map((request) => sendRequest(url, request)));
      batch.forEach((request, index) => {
        for (const fault of faultsOf(request, answers[index]!))
          faults.push(`${describeRequest(request)}: ${fault}`);
      });
    }

    expect({ seed, faults }).toEqual({ seed, faults: [] });
    expect(requests.length).toBeGreaterThan(1000);
    expect(lines.filter((line) => serverFailures.test(line))).toEqual([]);
    expect((await sendRequest(url, { method: 'GET', path: '/api/health' })).status).toBe(200);
  }, 240_000);
});
