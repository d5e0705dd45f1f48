import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { z } from 'zod';
import type { Logger } from '../jobs/support/logger';
import { errorResponse } from './httpProblem';
import type { QueryShape } from './queryParameters';
import { queryParser } from './queryParameters';
import { noPathParameters, parsePathParameters } from './requestInput';

/** One HTTP invocation as a function body sees it: route and query parameters already validated. */
export interface HttpCall<TParams, TQuery = Record<string, never>> {
  readonly request: HttpRequest;
  readonly context: InvocationContext;
  readonly params: TParams;
  readonly query: TQuery;
}

/** What a function takes besides its body: its route parameters and its query parameters. */
export interface HttpInput<TParams extends z.ZodType<Record<string, unknown>>, TQuery extends QueryShape> {
  /** The route's parameters; none when absent. */
  readonly params?: TParams;
  /**
   * The query parameters it takes (docs/api.md#query-parameters); none when absent. `'page'` for a web page: its
   * query belongs to the page's script (`?code=`, `?interval=`) and is not checked.
   */
  readonly query?: TQuery | 'page';
}

/**
 * An HTTP function: its route parameters, then its query, each a 400 naming the parameter (one grammar for every
 * route), then `run`, with any error it throws answered by `errorResponse` (a problem document; 500 without
 * internals for the unexpected).
 */
export function httpFunction<
  TParams extends z.ZodType<Record<string, unknown>> = typeof noPathParameters,
  TQuery extends QueryShape = Record<string, never>,
>(
  logger: Logger,
  input: HttpInput<TParams, TQuery>,
  run: (call: HttpCall<z.output<TParams>, z.output<z.ZodObject<TQuery>>>) => Promise<HttpResponseInit>,
): (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit> {
  const readQuery = input.query === 'page' ? undefined : queryParser(input.query ?? ({} as TQuery));
  return async (request, context) => {
    try {
      const params = parsePathParameters(request, input.params ?? noPathParameters);
      if (!params.ok) return params.response;
      const query = readQuery ? readQuery(request) : { ok: true as const, value: {} };
      if (!query.ok) return query.response;
      return await run({
        request,
        context,
        params: params.value as z.output<TParams>,
        query: query.value as z.output<z.ZodObject<TQuery>>,
      });
    } catch (error) {
      return errorResponse(error, logger.child({ invocationId: context.invocationId }));
    }
  };
}
