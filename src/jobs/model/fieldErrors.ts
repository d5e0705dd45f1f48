import type { z } from 'zod';
import type { FieldError } from '../errors';

/** Zod issues as field errors named by JSON Pointer under `prefix`; an unknown key is reported at its own path. */
export function fieldErrors(issues: readonly z.core.$ZodIssue[], prefix = ''): FieldError[] {
  return issues.flatMap((issue) => {
    const at = `${prefix}${toPointer(issue.path)}`;
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ field: `${at}${toPointer([key])}`, message: 'Unknown field.' }));
    }
    return [{ field: at, message: issue.message }];
  });
}

function toPointer(path: readonly PropertyKey[]): string {
  return path.map((segment) => `/${String(segment).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}
