import { loadConfig } from '../../src/config';
import { withCliRuntime } from '../cli/withCliRuntime';
import { cliEnvironment } from '../cli/cliEnvironment';
import type { DeadLetterOperations } from './deadLetterOperations';
import type { DlqCommand } from './dlqCommand';
import { parseDlqArguments, usage } from './dlqCommand';
import { formatBulkReplay, formatDiscard, formatListing, formatReplay } from './formatDeadLetters';
import { runCli } from '../cli/runCli';
import { httpDeadLetterOperations } from './httpDeadLetterOperations';

// `npm run dlq -- list | replay <seq> | replay --reason R | discard <seq>`: the dead-letter operations of the HTTP
// API, from a terminal, with the settings `npm start` reads. Exit code 0 on success, 1 when the operation failed,
// 2 when the command was wrong.
async function main(argv: readonly string[]): Promise<number> {
  const { command, url, settings } = parseDlqArguments(argv);
  if (command.kind === 'help') {
    console.log(usage);
    return 0;
  }
  const env = cliEnvironment(settings);
  const config = loadConfig(env);
  if (!config.useServiceBus || url) {
    return run(command, httpDeadLetterOperations(url ?? `http://localhost:${config.port}`));
  }
  return withCliRuntime(config, 'sdap-jobs-dlq', (runtime) => run(command, runtime.deadLetters));
}

async function run(command: Exclude<DlqCommand, { kind: 'help' }>, operations: DeadLetterOperations) {
  switch (command.kind) {
    case 'list':
      console.log(formatListing(await operations.list(command.query)));
      return 0;
    case 'replay':
      console.log(
        formatReplay(await operations.replay(command.sequenceNumber, { payload: command.payload })),
      );
      return 0;
    case 'replayMatching': {
      const result = await operations.replayMatching(command.filter);
      console.log(formatBulkReplay(result));
      return result.failed > 0 ? 1 : 0;
    }
    case 'discard':
      console.log(formatDiscard(await operations.discard(command.sequenceNumber)));
      return 0;
  }
}

runCli(main, 'npm run dlq -- --help');
