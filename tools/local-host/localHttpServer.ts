import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { HttpResponseInit } from '@azure/functions';
import { HttpRequest, HttpResponse, InvocationContext } from '@azure/functions';
import { problem } from '../../src/functions/httpProblem';
import type { HttpFunctionDefinition } from '../../src/functions/functionTable';
import type { Logger } from '../../src/jobs/support/logger';
import type { Telemetry } from '../../src/jobs/ports/telemetry';
import { invocationTraceContext } from './invocationTraceContext';

// The Functions host accepts up to 100 MB; bodies over this are refused before a function sees them, as there.
const maxBodyBytes = 100 * 1024 * 1024;

interface Route {
  readonly definition: HttpFunctionDefinition;
  readonly pattern: RegExp;
  readonly paramNames: string[];
}

/**
 * Serves the HTTP functions at `/api/<route>` the way the Functions host does: real `HttpRequest` and
 * `InvocationContext` objects in, `HttpResponseInit` out through the library's own `HttpResponse`.
 * Like `func start`, it does not check function keys. Like the host, it gives each invocation a trace context that
 * continues the caller's `traceparent`, and records the request in telemetry.
 */
export function createLocalHttpServer(
  definitions: readonly HttpFunctionDefinition[],
  logger: Logger,
  telemetry: Telemetry,
): Server {
  // As in ASP.NET routing, a literal segment wins over a parameter (`deadletters/replay` over `deadletters/{id}`):
  // fewer parameters first, and the first match wins.
  const routes = definitions.map(toRoute).sort((a, b) => a.paramNames.length - b.paramNames.length);
  return createServer((req, res) => {
    const startedAt = performance.now();
    // One access-log line a request, like morgan's `tiny`: method, path, status, time.
    res.once('finish', () => {
      const path = (req.url ?? '/').split('?')[0];
      logger.info(`${req.method} ${path} ${res.statusCode} ${Math.round(performance.now() - startedAt)}ms`);
    });
    handle(routes, req, res, logger, telemetry, startedAt).catch((error: unknown) => {
      logger.error('Local host failed to serve a request', { error: String(error) });
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/problem+json' });
      res.end(JSON.stringify({ title: 'Internal server error', status: 500 }));
    });
  });
}

async function handle(
  routes: readonly Route[],
  req: IncomingMessage,
  res: ServerResponse,
  logger: Logger,
  telemetry: Telemetry,
  /** When the request came in, on the `performance.now()` clock. */
  startedAt: number,
): Promise<void> {
  const startTime = new Date();
  const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
  const method = (req.method ?? 'GET').toUpperCase();
  const matches = routes.flatMap((route) => {
    const match = route.pattern.exec(url.pathname);
    return match ? [{ route, match }] : [];
  });
  const found = matches.find(({ route }) => route.definition.methods.includes(method as never));
  if (!found) {
    req.resume();
    const allowed = [...new Set(matches.flatMap(({ route }) => route.definition.methods))];
    if (allowed.length > 0) {
      return reply(
        res,
        405,
        'Method not allowed',
        `${url.pathname} answers ${allowed.join(', ')}, not ${method}.`,
        {
          Allow: allowed.join(', '),
        },
      );
    }
    return reply(
      res,
      404,
      'Not found',
      `No function answers ${url.pathname}. The API: ${describeRoutes(routes)}.`,
    );
  }

  const body = await readBody(req);
  if (body === undefined) {
    const detail = `A request body may be at most ${maxBodyBytes} bytes.`;
    return reply(res, 413, 'Payload too large', detail, { Connection: 'close' });
  }
  const params = decodeParameters(found.route.paramNames, found.match);
  if (!params) {
    return reply(res, 400, 'Invalid path', `The path ${url.pathname} has malformed percent-encoding.`);
  }
  const request = new HttpRequest({
    method,
    url: url.toString(),
    headers: toHeaderRecord(req),
    params,
    body: body.length > 0 ? { bytes: body } : undefined,
  });
  const invocationId = randomUUID();
  const { trace, traceContext } = invocationTraceContext(req.headers.traceparent);
  const context = new InvocationContext({
    invocationId,
    functionName: found.route.definition.name,
    traceContext,
    logHandler: (level, ...args) =>
      logger.debug('Function log', { invocationId, level, message: args.map(String).join(' ') }),
  });

  const response = await write(res, await found.route.definition.handler(request, context));
  telemetry.trackRequest(
    {
      name: `${method} /api/${found.route.definition.route}`,
      url: url.toString(),
      startTime,
      durationMs: performance.now() - startedAt,
      resultCode: response.status,
      success: response.status < 500,
    },
    trace,
  );
}

/** Writes a function's answer as the host does: its status, headers and body, with the body's length. */
async function write(res: ServerResponse, init: HttpResponseInit): Promise<HttpResponse> {
  const response = new HttpResponse(init);
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => (headers[name] = value));
  const payload = Buffer.from(await response.arrayBuffer());
  res.writeHead(response.status, { ...headers, 'Content-Length': String(payload.length) });
  res.end(payload);
  return response;
}

/** The local host's own answers (no function ran), as problem documents like the functions' own. */
async function reply(
  res: ServerResponse,
  status: number,
  title: string,
  detail: string,
  headers: Record<string, string> = {},
): Promise<void> {
  await write(res, problem(status, title, detail, { headers }));
}

function describeRoutes(routes: readonly Route[]): string {
  return routes
    .flatMap(({ definition }) => {
      // As a caller reads it: `{sequenceNumber}`, not the host's `{sequenceNumber:long}`.
      const route = definition.route.replace(/\{(\w+):\w+\}/g, '{$1}');
      return definition.methods.map((method) => `${method} /api/${route}`);
    })
    .join(', ');
}

/** Route parameters, percent-decoded as the host does; undefined when one is not valid percent-encoding. */
function decodeParameters(
  names: readonly string[],
  match: RegExpExecArray,
): Record<string, string> | undefined {
  try {
    return Object.fromEntries(names.map((name, index) => [name, decodeURIComponent(match[index + 1] ?? '')]));
  } catch {
    return undefined;
  }
}

function toRoute(definition: HttpFunctionDefinition): Route {
  const paramNames: string[] = [];
  const source = definition.route
    .split('/')
    .map((segment) => {
      const param = /^\{(\w+)(?::(\w+))?\??\}$/.exec(segment);
      if (!param) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      paramNames.push(param[1] as string);
      return constraintPattern(definition.route, param[2]);
    })
    .join('/');
  return { definition, pattern: new RegExp(`^/api/${source}/?$`, 'i'), paramNames };
}

// The Functions host's route constraints this app uses; an unknown one fails at start-up rather than mis-route.
const constraintPatterns: Record<string, string> = {
  int: '(-?\\d+)',
  long: '(-?\\d+)',
  alpha: '([a-zA-Z]+)',
};

function constraintPattern(route: string, constraint: string | undefined): string {
  if (constraint === undefined) return '([^/]+)';
  const pattern = constraintPatterns[constraint.toLowerCase()];
  if (!pattern)
    throw new Error(`Route '${route}': the local host does not know the constraint '${constraint}'.`);
  return pattern;
}

async function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBodyBytes) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function toHeaderRecord(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}
