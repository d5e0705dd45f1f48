import type { InvocationContextInit } from '@azure/functions';
import { InvocationContext } from '@azure/functions';

/** A context as the Functions host passes one to an invocation, for calling a function directly in a test. */
export function invocationContext(init: InvocationContextInit = {}): InvocationContext {
  return new InvocationContext({ invocationId: 'test-invocation', functionName: 'test', ...init });
}
