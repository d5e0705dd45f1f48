import type { DeadLetterFilter, DeadLetterListQuery } from '../../src/jobs/operators/deadLetterService';
import { deadLetterListLimit } from '../../src/jobs/operators/deadLetterService';
import { sequenceNumberPattern } from '../../src/jobs/ports/deadLetterQueue';
import type { CliInvocation } from '../cli/cliArguments';
import { parseCliArguments, settingsOptionUsage } from '../cli/cliArguments';
import { UsageError } from '../cli/runCli';

export type DlqCommand =
  | { kind: 'list'; query: DeadLetterListQuery }
  | { kind: 'replay'; sequenceNumber: string; payload?: unknown }
  | { kind: 'replayMatching'; filter: DeadLetterFilter }
  | { kind: 'discard'; sequenceNumber: string }
  | { kind: 'help' };

export type DlqInvocation = CliInvocation<DlqCommand>;

export const usage = `Usage: npm run dlq -- <command> [options]

  list [--reason R] [--job-type T] [--limit N]   dead-lettered jobs, oldest first, with counts (limit 1-${deadLetterListLimit.max}, default ${deadLetterListLimit.default})
  replay <sequenceNumber> [--payload '<json>']   send one job back as a fresh attempt cycle, optionally with a corrected payload
  replay --reason R | --job-type T               replay every dead-lettered job that matches
  discard <sequenceNumber>                       remove one message for good (recorded on its job)

Options:
  --url <base>            the running app, in embedded mode (default http://localhost:$PORT, PORT defaulting to 7071)
${settingsOptionUsage}`;

export function parseDlqArguments(argv: readonly string[]): DlqInvocation {
  const { values, positionals } = parseCliArguments(argv, {
    reason: { type: 'string' },
    'job-type': { type: 'string' },
    limit: { type: 'string' },
    payload: { type: 'string' },
  });
  return { command: commandOf(values, positionals), url: values.url, settings: values.settings };
}

function commandOf(
  values: { reason?: string; 'job-type'?: string; limit?: string; payload?: string; help?: boolean },
  positionals: readonly string[],
): DlqCommand {
  const [name, target, ...extra] = positionals;
  if (values.help || name === undefined || name === 'help') return { kind: 'help' };
  if (extra.length > 0) throw new UsageError(`Unexpected argument '${extra[0]}'.`);
  const reason = values.reason;
  const jobType = values['job-type'];
  switch (name) {
    case 'list': {
      if (target !== undefined) throw new UsageError(`'list' takes no argument (got '${target}').`);
      const limit = values.limit === undefined ? deadLetterListLimit.default : Number(values.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > deadLetterListLimit.max)
        throw new UsageError(
          `--limit must be a whole number from 1 to ${deadLetterListLimit.max} (got '${values.limit}').`,
        );
      return { kind: 'list', query: { limit, reason, jobType } };
    }
    case 'replay': {
      if (target === undefined) {
        if (reason === undefined && jobType === undefined)
          throw new UsageError("'replay' needs a sequence number, or --reason and/or --job-type.");
        if (values.payload !== undefined)
          throw new UsageError(
            '--payload corrects one job: give the sequence number of the message to replay.',
          );
        return { kind: 'replayMatching', filter: { reason, jobType } };
      }
      if (reason !== undefined || jobType !== undefined)
        throw new UsageError("Give either a sequence number or --reason / --job-type to 'replay', not both.");
      return { kind: 'replay', sequenceNumber: sequenceNumberOf(target), payload: payloadOf(values.payload) };
    }
    case 'discard':
      if (target === undefined) throw new UsageError("'discard' needs the sequence number of the message.");
      return { kind: 'discard', sequenceNumber: sequenceNumberOf(target) };
    default:
      throw new UsageError(`Unknown command '${name}'.`);
  }
}

function sequenceNumberOf(text: string): string {
  if (!sequenceNumberPattern.test(text))
    throw new UsageError(`'${text}' is not a sequence number (digits only).`);
  return text;
}

function payloadOf(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--payload is not valid JSON: ${(error as Error).message}`);
  }
}
