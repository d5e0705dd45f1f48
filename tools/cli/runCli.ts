import { ValidationError } from '../../src/jobs/errors';
import { formatFieldErrors } from './appApi';

/** A mistake in how a CLI was called: the message says what to fix, and a pointer to the usage follows it. */
export class UsageError extends Error {}

/**
 * Runs a CLI's `main` on the process's arguments and exits with its code: 2 for a wrong command, with the mistake
 * and one line naming `helpCommand` (the whole usage would bury the one line that matters); 1 with the error's
 * own message (field by field for a validation error) when the operation failed. Our errors already say what went
 * wrong; a stack trace would only bury it.
 */
export function runCli(main: (argv: readonly string[]) => Promise<number>, helpCommand: string): void {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      if (error instanceof UsageError) {
        console.error(`${error.message}\nSee \`${helpCommand}\` for the commands and options.`);
        process.exit(2);
      }
      const details = error instanceof ValidationError ? formatFieldErrors(error.errors) : '';
      console.error(error instanceof Error ? `${error.message}${details}` : String(error));
      process.exit(1);
    },
  );
}
