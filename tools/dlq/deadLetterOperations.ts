import type { DeadLetterService } from '../../src/jobs/operators/deadLetterService';

/** What the CLI does, whether through the core in this process or through a running app's HTTP API. */
export type DeadLetterOperations = Pick<DeadLetterService, 'list' | 'replay' | 'replayMatching' | 'discard'>;
