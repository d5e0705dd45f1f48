import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { STATUS_CODES, createServer } from 'node:http';
import type { Duplex } from 'node:stream';
import type { HttpResponseInit } from '@azure/functions';
import { HttpRequest, HttpResponse, InvocationContext } from '@azure/functions';
import { problem } from '../../src/functions/httpProblem';
import type { HttpFunctionDefinition } from '../../src/functions/functionTable';
import { RouteTable } from '../../src/functions/routeTemplate';
import type { Logger } from '../../src/jobs/support/logger';
import type { Telemetry } from '../../src/jobs/ports/telemetry';
import { invocationTraceContext } from './invocationTraceContext';

// The Functions host accepts up to 100 MB; bodies over this are refused before a function sees them, as there.
const maxBodyBytes = 100 * 1024 * 1024;

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
  // As in ASP.NET routing, a literal segment wins over a parameter (`deadletters/replay` over `deadletters/{id}`),
  // and the first route that takes the method answers.
  const routes = new RouteTable(definitions);
  // A missing Host is answered below as a problem document, not by Node's bare 400.
  const server = createServer({ requireHostHeader: false }, (req, res) => {
    const startedAt = performance.now();
    const path = pathOf(req);
    // One access-log line a request, like morgan's `tiny`: method, path, status, time.
    res.once('finish', () => {
      logger.info(`${req.method} ${path} ${res.statusCode} ${Math.round(performance.now() - startedAt)}ms`);
    });
    handle(routes, req, res, logger, telemetry, startedAt).catch((error: unknown) => {
      // A client that went away (`aborted`, ECONNRESET, a body that never came) is no failure of ours.
      if (req.destroyed || res.destroyed || req.errored) {
        logger.debug('Client went away before its answer', {
          method: req.method,
          path,
          error: String(error),
        });
        res.destroy();
        return;
      }
      logger.error('Local host failed to serve a request', {
        method: req.method,
        path,
        error: String(error),
      });
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/problem+json' });
      res.end(JSON.stringify({ title: 'Internal server error', status: 500 }));
    });
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) =>
    answerUnparsable(error, socket, logger),
  );
  return server;
}

/** The request's path as sent (`/api/jobs/.` stays that: no dot segments removed, no percent-decoding). */
function pathOf(req: IncomingMessage): string {
  const target = req.url ?? '/';
  // An absolute-form target (`GET http://host/api/jobs`) names the path after its authority.
  const path = /^[a-z][a-z\d+.-]*:\/\//i.test(target) ? target.replace(/^[^:]+:\/\/[^/?#]*/, '') : target;
  return path.split(/[?#]/, 1)[0] || '/';
}

// Node's parser refuses these before any request exists; each is the client's mistake.
const unparsableStatus: Record<string, number> = {
  HPE_HEADER_OVERFLOW: 431,
  ERR_HTTP_REQUEST_TIMEOUT: 408,
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 413,
};

/**
 * A request Node's HTTP parser refused (a bad method, `Content-Length: abc`, both `Content-Length` and
 * `Transfer-Encoding`, a control character in a header): answered with a problem document, as a function's 400
 * would be, when the connection can still take one; never logged as the server's error.
 */
function answerUnparsable(error: NodeJS.ErrnoException, socket: Duplex, logger: Logger): void {
  logger.debug('Refused a request the HTTP parser could not read', {
    code: error.code,
    error: error.message,
  });
  // Node's own rule: nothing more on a connection that is gone, or whose previous answer has begun.
  const pending = (socket as { _httpMessage?: ServerResponse })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || pending?.headersSent) {
    socket.destroy();
    return;
  }
  const status = unparsableStatus[error.code ?? ''] ?? 400;
  const body = JSON.stringify({
    type: 'about:blank',
    title: STATUS_CODES[status],
    status,
    detail: `The request is not valid HTTP/1.1 (${error.code ?? 'unreadable'}): ${parserReason(error)}`,
  });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
      'Content-Type: application/problem+json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}

/** The parser's reason, without the raw bytes it may quote. */
function parserReason(error: Error & { reason?: unknown }): string {
  return typeof error.reason === 'string' ? error.reason : error.message.replace(/[^\x20-\x7e]/g, '?');
}

async function handle(
  routes: RouteTable<HttpFunctionDefinition>,
  req: IncomingMessage,
  res: ServerResponse,
  logger: Logger,
  telemetry: Telemetry,
  /** When the request came in, on the `performance.now()` clock. */
  startedAt: number,
): Promise<void> {
  const startTime = new Date();
  const url = parseUrl(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
  if (!url || (req.httpVersion === '1.1' && !req.headers.host)) {
    req.resume();
    const detail = 'An HTTP/1.1 request needs a valid Host header and request target.';
    return reply(res, 400, 'Bad Request', detail, { Connection: 'close' });
  }
  const method = (req.method ?? 'GET').toUpperCase();
  // Routed by the path as sent: `/api/jobs/.` and `/api/jobs/%2e` name a job, not the listing `new URL` makes them.
  const path = pathOf(req);
  const found = routes.match(path).find(({ definition }) => definition.methods.includes(method as never));
  if (!found) {
    req.resume();
    const allowed = routes.allowedMethods(path);
    if (allowed.length > 0) {
      return reply(res, 405, 'Method not allowed', `${path} answers ${allowed.join(', ')}, not ${method}.`, {
        Allow: allowed.join(', '),
      });
    }
    return reply(
      res,
      404,
      'Not found',
      `No function answers ${path}. The API: ${routes.describe().join(', ')}.`,
    );
  }

  const body = await readBody(req);
  if (body === undefined) {
    const detail = `A request body may be at most ${maxBodyBytes} bytes.`;
    return reply(res, 413, 'Payload too large', detail, { Connection: 'close' });
  }
  const params = decodeParameters(found.rawParams);
  if (!params) {
    return reply(res, 400, 'Invalid path', `The path ${path} has malformed percent-encoding.`);
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
    functionName: found.definition.name,
    traceContext,
    logHandler: (level, ...args) =>
      logger.debug('Function log', { invocationId, level, message: args.map(String).join(' ') }),
  });

  const response = await write(res, await found.definition.handler(request, context));
  telemetry.trackRequest(
    {
      name: `${method} /api/${found.definition.route}`,
      url: url.toString(),
      startTime,
      durationMs: performance.now() - startedAt,
      resultCode: response.status,
      success: response.status < 500,
    },
    trace,
  );
}

/**
 * Writes a function's answer as the host does: its status, headers and body, with the body's length (a HEAD's
 * answer keeps the length its function gave: that of the GET's content, which Node does not send).
 */
async function write(res: ServerResponse, init: HttpResponseInit | HttpResponse): Promise<HttpResponse> {
  const response = init instanceof HttpResponse ? init : new HttpResponse(init);
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => (headers[name] = value));
  const payload = Buffer.from(await response.arrayBuffer());
  const given = res.req.method === 'HEAD' ? headers['content-length'] : undefined;
  const length = given ?? String(payload.length);
  res.writeHead(response.status, { ...headers, 'content-length': length });
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

/** `URL.parse` (Node 20.18 and 22.1 on): undefined for what is not a URL. */
function parseUrl(target: string, base: string): URL | undefined {
  try {
    return new URL(target, base);
  } catch {
    return undefined;
  }
}

/** Route parameters, percent-decoded as the host does; undefined when one is not valid percent-encoding. */
function decodeParameters(raw: Readonly<Record<string, string>>): Record<string, string> | undefined {
  try {
    return Object.fromEntries(Object.entries(raw).map(([name, value]) => [name, decodeURIComponent(value)]));
  } catch {
    return undefined;
  }
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
