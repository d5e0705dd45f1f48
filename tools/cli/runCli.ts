import { ValidationError } from '../../src/jobs/errors';
import { formatFieldErrors } from './appApi';

/** A mistake in how a CLI was called: the message says what to fix, and the usage follows it. */
export class UsageError extends Error {}

/**
 * Runs a CLI's `main` on the process's arguments and exits with its code: 2 with the usage for a wrong command, 1
 * with the error's own message (field by field for a validation error) when the operation failed. Our errors
 * already say what went wrong; a stack trace would only bury it.
 */
export function runCli(main: (argv: readonly string[]) => Promise<number>, usage: string): void {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      if (error instanceof UsageError) {
        console.error(`${error.message}\n\n${usage}`);
        process.exit(2);
      }
      const details = error instanceof ValidationError ? formatFieldErrors(error.errors) : '';
      console.error(error instanceof Error ? `${error.message}${details}` : String(error));
      process.exit(1);
    },
  );
}
