import type { ServiceDetails, ServiceMessage } from './serviceMessages';
import { STOP } from './serviceMessages';

export interface RunningService<Details extends ServiceDetails> {
  readonly details: Details;
  close(): Promise<void>;
}

/**
 * A service's entry point (`npm run emulator`, Azurite's): starts it and keeps it running until it is told to stop.
 *
 * Run alone, it prints `readyLines` once listening, stops on SIGINT or SIGTERM, and on a failed start prints the
 * error's message and exits 1. Started by `startServiceProcess` (with an IPC channel), it reports the same over the
 * channel instead and follows its parent: it stops when asked, or when the parent is gone however it ended, and
 * ignores SIGINT, which a terminal's Ctrl+C sends to the whole process group, so that it outlives the parent's drain.
 */
export function runService<Details extends ServiceDetails>(
  start: () => Promise<RunningService<Details>>,
  readyLines: (details: Details) => string[],
): void {
  const supervised = process.send !== undefined;
  let closeService: (() => Promise<void>) | undefined;
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    (closeService?.() ?? Promise.resolve()).then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  // Before starting: a supervisor may ask for a stop as soon as it reads the ready report.
  if (supervised) {
    process.on('SIGINT', () => undefined);
    process.on('message', (message) => message === STOP && stop());
    process.on('disconnect', stop);
  } else {
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  }

  start().then(
    (service) => {
      closeService = () => service.close();
      if (supervised) send({ kind: 'ready', details: service.details });
      else for (const line of readyLines(service.details)) console.log(line);
      if (stopping) stop();
    },
    (error: unknown) => {
      const failure = error as (NodeJS.ErrnoException & { port?: number }) | undefined;
      const message = error instanceof Error ? error.message : String(error);
      if (!supervised) {
        console.error(message);
        process.exit(1);
      }
      send({ kind: 'failed', message, code: failure?.code, port: failure?.port }, () => process.exit(1));
    },
  );
}

function send(message: ServiceMessage, then?: () => void): void {
  if (!process.connected) return then?.();
  process.send!(message, undefined, {}, () => then?.());
}
