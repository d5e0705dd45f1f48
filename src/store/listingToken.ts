import { z } from 'zod';
import { InvalidContinuationTokenError } from '../jobs/errors';

/** The format of the tokens the stores issue; a token of another version is refused, not guessed at. */
const tokenVersion = 1;

/** Most characters a token may have: far more than any the stores issue. */
const maxTokenLength = 4096;

/**
 * A listing's continuation token: the store's cursor as versioned JSON, base64url. Opaque to callers, and checked
 * when it comes back: only the canonical encoding of a cursor the store's schema accepts is read (so `garbage`,
 * `eyJ4IjoxfQ` (`{"x":1}`) and a truncated token are refused). The schema is the store's: it bounds every field,
 * so a token made by hand names at worst another position in the listing.
 */
export function encodeListingToken(cursor: unknown): string {
  return Buffer.from(JSON.stringify({ v: tokenVersion, cursor })).toString('base64url');
}

/** The cursor in a token `encodeListingToken` made; `InvalidContinuationTokenError` for anything else. */
export function decodeListingToken<T>(token: string, cursorSchema: z.ZodType<T>): T {
  if (token.length > maxTokenLength || !/^[A-Za-z0-9_-]+$/.test(token))
    throw new InvalidContinuationTokenError();
  const bytes = Buffer.from(token, 'base64url');
  if (bytes.toString('base64url') !== token) throw new InvalidContinuationTokenError();
  const parsed = z
    .strictObject({ v: z.literal(tokenVersion), cursor: cursorSchema })
    .safeParse(parseJson(bytes));
  if (!parsed.success) throw new InvalidContinuationTokenError();
  return parsed.data.cursor;
}

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return undefined;
  }
}
