import { randomFillSync } from 'node:crypto';

/** A W3C trace context: the operation a telemetry item belongs to (`traceId`) and the span it came from. */
export interface TraceContext {
  readonly traceId: string;
  readonly spanId: string;
  readonly sampled: boolean;
}

const traceParentPattern = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const invalidTraceId = '0'.repeat(32);
const invalidSpanId = '0'.repeat(16);

/** Reads a `traceparent` header or `Diagnostic-Id` value; anything malformed reads as no context. */
export function parseTraceParent(value: unknown): TraceContext | undefined {
  if (typeof value !== 'string') return undefined;
  const match = traceParentPattern.exec(value.trim().toLowerCase());
  if (!match) return undefined;
  const [, version, traceId, spanId, flags] = match as unknown as [string, string, string, string, string];
  if (version === 'ff' || traceId === invalidTraceId || spanId === invalidSpanId) return undefined;
  return { traceId, spanId, sampled: (Number.parseInt(flags, 16) & 1) === 1 };
}

export function formatTraceParent({ traceId, spanId, sampled }: TraceContext): string {
  return `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`;
}

/** A span of its own for work that continues the sender's `traceparent` (or starts a trace when it has none). */
export function continueTrace(traceParent: unknown): TraceContext {
  return childSpanOf(parseTraceParent(traceParent));
}

/** A new span in `parent`'s trace, or the root of a new trace when there is no parent. */
export function childSpanOf(parent: TraceContext | undefined): TraceContext {
  return parent
    ? { traceId: parent.traceId, spanId: randomHex(8), sampled: parent.sampled }
    : { traceId: randomHex(16), spanId: randomHex(8), sampled: true };
}

// Ids are made per message: one `randomBytes` call each costs a system call, so they come from a pool refilled in
// bulk (measured in the Service Bus benchmark: ~20 µs per message with a call each).
const randomPool = Buffer.alloc(4096);
let randomPoolOffset = randomPool.length;

function randomHex(bytes: number): string {
  if (randomPoolOffset + bytes > randomPool.length) {
    randomFillSync(randomPool);
    randomPoolOffset = 0;
  }
  const hex = randomPool.toString('hex', randomPoolOffset, randomPoolOffset + bytes);
  randomPoolOffset += bytes;
  return hex;
}
