import type { HttpRequest } from '@azure/functions';
import { z } from 'zod';
import type { FieldError } from '../jobs/errors';
import { fieldErrorsOf, invalidFields } from './httpProblem';
import type { Parsed } from './requestInput';

/** What a route takes in its query: each parameter's schema, given the decoded, non-empty text. */
export type QueryShape = Record<string, z.ZodType>;

/** The host's own parameter, a function key given as `?code=` (docs/security.md): never a function's business. */
const hostParameters: ReadonlySet<string> = new Set(['code']);

/**
 * The one grammar of every route's query (docs/api.md#query-parameters):
 * - a value is percent-decoded strictly, as UTF-8 (`+` is a space): `%zz` or an overlong sequence is a 400;
 * - an empty value is the same as an absent one (`?status=&jobType=` lists everything);
 * - a parameter given twice is a 400 naming it, not "the last one wins";
 * - a parameter the route does not take is a 400 naming it (`code`, the host's function key, excepted);
 * - each value against the route's schema: a 400 naming each failing parameter.
 *
 * Read from the request's URL, not from `request.query`: the host hands the worker the query as a map, in which a
 * repeated parameter is already folded into one.
 */
export function queryParser<T extends QueryShape>(
  shape: T,
): (request: HttpRequest) => Parsed<z.output<z.ZodObject<T>>> {
  const schema = z.object(shape);
  const unknown = unknownParameter(Object.keys(shape));
  return (request) => parseQuery(request, shape, schema, unknown);
}

function parseQuery<T extends QueryShape>(
  request: HttpRequest,
  shape: T,
  schema: z.ZodObject<T>,
  unknown: string,
): Parsed<z.output<z.ZodObject<T>>> {
  const errors: FieldError[] = [];
  const given = new Map<string, string[]>();
  for (const piece of new URL(request.url).search.slice(1).split('&')) {
    if (piece === '') continue;
    const separator = piece.indexOf('=');
    const rawName = separator === -1 ? piece : piece.slice(0, separator);
    const name = decode(rawName);
    const value = decode(separator === -1 ? '' : piece.slice(separator + 1));
    if (name === undefined || value === undefined) {
      errors.push({ field: name ?? rawName, message: 'Malformed percent-encoding (not UTF-8).' });
    } else if (!hostParameters.has(name)) {
      given.set(name, [...(given.get(name) ?? []), value]);
    }
  }
  const values: Record<string, string> = {};
  for (const [name, [value, ...more]] of given) {
    if (!Object.hasOwn(shape, name)) {
      errors.push({ field: name, message: unknown });
    } else if (more.length > 0) {
      errors.push({ field: name, message: `Given ${more.length + 1} times; give it once.` });
    } else if (value !== undefined && value !== '') {
      values[name] = value;
    }
  }
  if (errors.length === 0) {
    const result = schema.safeParse(values);
    if (result.success) return { ok: true, value: result.data };
    errors.push(...fieldErrorsOf(result.error.issues));
  }
  return { ok: false, response: invalidFields('Invalid query', errors) };
}

/** A decimal integer from `min` to `max` (digits only: no sign, `0x10`, `1e1` or `1.0`). */
export function queryInteger(min: number, max: number) {
  const range = `a decimal integer from ${min} to ${max}`;
  return z
    .string()
    .regex(/^\d+$/, `Expected ${range}.`)
    .transform(Number)
    .refine((value) => value >= min && value <= max, `Expected ${range}.`);
}

/** One of an enumeration's values, exactly; the message lists them all. */
export function oneOf<T extends z.core.util.EnumLike>(schema: z.ZodEnum<T>) {
  return z.enum(schema.enum, { error: () => `Expected one of: ${schema.options.join(', ')}.` });
}

function unknownParameter(known: readonly string[]): string {
  return known.length === 0
    ? 'Unknown parameter: this route takes no query parameters.'
    : `Unknown parameter (this route takes: ${known.join(', ')}).`;
}

function decode(text: string): string | undefined {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    return undefined;
  }
}
