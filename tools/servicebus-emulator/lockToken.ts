import { randomUUID } from 'node:crypto';

export interface LockToken {
  /** Canonical GUID text, the key $management requests and the SDK's `lockToken` use. */
  id: string;
  /** The delivery tag: the GUID in .NET `Guid.ToByteArray()` order, which the SDK reorders to print. */
  deliveryTag: Buffer;
}

export function newLockToken(): LockToken {
  const id = randomUUID();
  return { id, deliveryTag: toDotNetOrder(uuidBytes(id)) };
}

/** A uuid as $management carries it (RFC 4122 byte order) to its canonical text. */
export function lockTokenId(bytes: Buffer): string {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function uuidBytes(id: string): Buffer {
  return Buffer.from(id.replace(/-/g, ''), 'hex');
}

function toDotNetOrder(rfc: Buffer): Buffer {
  const bytes = Buffer.from(rfc);
  bytes.subarray(0, 4).reverse();
  bytes.subarray(4, 6).reverse();
  bytes.subarray(6, 8).reverse();
  return bytes;
}
