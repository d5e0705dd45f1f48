import {
  childSpanOf,
  formatTraceParent,
  parseTraceParent,
} from '../../../../src/jobs/observability/traceContext';

const traceId = '0af7651916cd43dd8448eb211c80319c';
const spanId = 'b7ad6b7169203331';

describe('W3C trace context', () => {
  it('reads a traceparent and writes it back unchanged', () => {
    const value = `00-${traceId}-${spanId}-01`;
    expect(parseTraceParent(value)).toEqual({ traceId, spanId, sampled: true });
    expect(formatTraceParent(parseTraceParent(value)!)).toBe(value);
    expect(parseTraceParent(`00-${traceId}-${spanId}-00`)?.sampled).toBe(false);
  });

  it.each([
    ['not a string', 42],
    ['empty', ''],
    ['a request id of the old format', '|0af7651916cd43dd8448eb211c80319c.b7ad6b7169203331.'],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${spanId}-01`],
    ['an all-zero span id', `00-${traceId}-${'0'.repeat(16)}-01`],
    ['the forbidden version ff', `ff-${traceId}-${spanId}-01`],
    ['a short trace id', `00-${traceId.slice(1)}-${spanId}-01`],
  ])('reads %s as no context', (_, value) => {
    expect(parseTraceParent(value)).toBeUndefined();
  });

  it('makes a child span in the same trace, or a new trace without a parent', () => {
    const parent = { traceId, spanId, sampled: true };
    const child = childSpanOf(parent);
    expect(child.traceId).toBe(traceId);
    expect(child.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(child.spanId).not.toBe(spanId);

    const root = childSpanOf(undefined);
    expect(root.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(root.traceId).not.toBe(childSpanOf(undefined).traceId);
    expect(parseTraceParent(formatTraceParent(root))).toEqual(root);
  });
});
