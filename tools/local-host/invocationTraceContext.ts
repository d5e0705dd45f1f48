import type { TraceContext } from '@azure/functions';
import { continueTrace, formatTraceParent } from '../../src/jobs/observability/traceContext';
import type { TraceContext as JobTraceContext } from '../../src/jobs/observability/traceContext';

/**
 * The trace context the host gives an invocation: a span of its own, continuing the caller's `traceparent` (HTTP)
 * or the message's `Diagnostic-Id` (Service Bus).
 */
export function invocationTraceContext(incoming: unknown): {
  trace: JobTraceContext;
  traceContext: TraceContext;
} {
  const trace = continueTrace(incoming);
  return {
    trace,
    traceContext: { traceParent: formatTraceParent(trace), traceState: undefined, attributes: {} },
  };
}
