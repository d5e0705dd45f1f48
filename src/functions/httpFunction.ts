import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { z } from 'zod';
import type { Logger } from '../jobs/support/logger';
import { errorResponse } from './httpProblem';
import { parsePathParameters } from './requestInput';

/** One HTTP invocation as a function body sees it: route parameters already validated. */
export interface HttpCall<TParams> {
  readonly request: HttpRequest;
  readonly context: InvocationContext;
  readonly params: TParams;
}

/**
 * An HTTP function: its route parameters against `paramsSchema` (400 naming the parameter), then `run`, with any
 * error it throws answered by `errorResponse` (a problem document; 500 without internals for the unexpected).
 */
export function httpFunction<TSchema extends z.ZodType<Record<string, unknown>>>(
  logger: Logger,
  paramsSchema: TSchema,
  run: (call: HttpCall<z.output<TSchema>>) => Promise<HttpResponseInit>,
): (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit> {
  return async (request, context) => {
    try {
      const params = parsePathParameters(request, paramsSchema);
      if (!params.ok) return params.response;
      return await run({ request, context, params: params.value });
    } catch (error) {
      return errorResponse(error, logger.child({ invocationId: context.invocationId }));
    }
  };
}
