import type { ParseArgsOptionsConfig } from 'node:util';
import { parseArgs } from 'node:util';
import { UsageError } from './runCli';

/** A CLI's command line: what to do, and where (a running app's URL, or the settings to work with directly). */
export interface CliInvocation<Command> {
  readonly command: Command;
  /** `--url`: the running app's base URL. */
  readonly url?: string;
  /** `--settings`: a settings file, or `none`. */
  readonly settings?: string;
}

/** The options every CLI takes, as its usage shows them, after the command's own `--url` line. */
export const settingsOptionUsage = `  --settings <file|none>  read settings from this file instead of ./local.settings.json; none: from the
                          environment only (against Azure, so that the emulators' settings in that file do not win)
Settings come from the environment over local.settings.json (or what --settings names), as for npm start.`;

/** Parses a CLI's arguments: its own options, plus `--url`, `--settings` and `--help`; a mistake is a UsageError. */
export function parseCliArguments<const Options extends ParseArgsOptionsConfig>(
  argv: readonly string[],
  options: Options,
) {
  try {
    return parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        ...options,
        url: { type: 'string' },
        settings: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
