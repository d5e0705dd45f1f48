import type { HttpHandler, HttpMethod, HttpResponseInit } from '@azure/functions';
import { HttpResponse } from '@azure/functions';
import { RouteTable } from './routeTemplate';

interface HttpRoute {
  readonly route: string;
  readonly methods: HttpMethod[];
  readonly handler: HttpHandler;
}

/**
 * Every HTTP function also answers `HEAD` where it answers `GET` (the same status and headers, no content, as RFC
 * 9110 asks of a GET resource) and `OPTIONS` (204 with `Allow`, the methods of the path). The Functions host routes
 * only the methods a function lists (a `HEAD` on a GET-only function is its 404, azure-functions-host#11625), so
 * each lists them. `Allow` is worked out from the path against the whole table: two functions may share a route
 * (`GET` and `POST /api/jobs`), and whichever the host hands an `OPTIONS` to answers for both.
 */
export function withHeadAndOptions<T extends HttpRoute>(definitions: readonly T[]): T[] {
  const table = new RouteTable(
    definitions.map((definition) => ({ ...definition, methods: methodsOf(definition) })),
  );
  return definitions.map((definition) => {
    const { handler } = definition;
    const answer: HttpHandler = async (request, context) => {
      if (request.method === 'OPTIONS') {
        const allow = table.allowedMethods(new URL(request.url).pathname);
        return {
          status: 204,
          headers: { Allow: (allow.length > 0 ? allow : methodsOf(definition)).join(', ') },
        };
      }
      if (request.method === 'HEAD') return withoutContent(await handler(request, context));
      return handler(request, context);
    };
    return { ...definition, methods: methodsOf(definition), handler: answer };
  });
}

function methodsOf({ methods }: HttpRoute): HttpMethod[] {
  return [...methods, ...(methods.includes('GET') ? ['HEAD' as const] : []), 'OPTIONS'];
}

/** A GET's answer as a HEAD's: its status and headers, with the length its content would have had. */
async function withoutContent(init: HttpResponseInit | HttpResponse): Promise<HttpResponseInit> {
  const response = init instanceof HttpResponse ? init : new HttpResponse(init);
  const length = (await response.arrayBuffer()).byteLength;
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => (headers[name] = value));
  return { status: response.status, headers: { ...headers, 'content-length': String(length) } };
}
