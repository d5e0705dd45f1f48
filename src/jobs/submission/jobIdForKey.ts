import { createHash } from 'node:crypto';

// A fixed namespace for this app's name-based job ids (RFC 9562 UUIDv5).
const namespace = Buffer.from('6f1c3a52-9d0e-4a7b-8e21-5b4f0c2d9a17'.replaceAll('-', ''), 'hex');

/**
 * The jobId of the job an idempotency key names: the same key always gives the same id, so inserting the job's
 * record is itself the atomic reservation of the key — in any store, and long after the broker's duplicate
 * detection window has passed.
 */
export function jobIdForKey(idempotencyKey: string): string {
  const hash = createHash('sha1').update(namespace).update(idempotencyKey, 'utf8').digest();
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
