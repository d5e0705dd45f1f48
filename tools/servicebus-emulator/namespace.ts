import type { NamespaceSettings } from './emulatorConfig';
import { QueueEntity } from './queueEntity';

export type EntityLookup =
  { kind: 'queue'; queue: QueueEntity } | { kind: 'error'; condition: string; description: string };

const DEAD_LETTER_QUEUE = '$deadletterqueue';

/** The namespace's entities, looked up by path the way the service does (case-insensitively). */
export class Namespace {
  private readonly queues = new Map<string, QueueEntity>();
  private readonly topics: Set<string>;

  constructor(
    private readonly settings: NamespaceSettings,
    requestDeadline: (deadline: number) => void,
  ) {
    const hooks = { requestDeadline, findQueue: (name: string) => this.queues.get(name.toLowerCase()) };
    for (const queue of settings.queues) {
      this.queues.set(queue.name.toLowerCase(), new QueueEntity(queue, queue.name, hooks));
    }
    this.topics = new Set(settings.topicNames.map((name) => name.toLowerCase()));
  }

  find(path: string): EntityLookup {
    const segments = path.toLowerCase().split('/');
    const [name = '', ...rest] = segments;
    const queue = this.queues.get(name);
    if (queue && rest.length === 0) return { kind: 'queue', queue };
    if (queue?.deadLetterQueue && rest.length === 1 && rest[0] === DEAD_LETTER_QUEUE) {
      return { kind: 'queue', queue: queue.deadLetterQueue };
    }
    if (this.topics.has(name)) {
      return {
        kind: 'error',
        condition: 'amqp:not-implemented',
        description: `'${path}' is a topic or subscription; the Service Bus emulator supports queues only.`,
      };
    }
    return {
      kind: 'error',
      condition: 'amqp:not-found',
      description: `The messaging entity 'sb://${this.settings.name}.servicebus.windows.net/${path}' could not be found. To know more visit https://aka.ms/sbResourceMgrExceptions.`,
    };
  }

  /** Runs every queue's due deadlines; returns the earliest next one. */
  sweep(now: number): number | undefined {
    let next: number | undefined;
    for (const queue of this.queues.values()) {
      const candidate = queue.sweep(now);
      if (candidate !== undefined && (next === undefined || candidate < next)) next = candidate;
    }
    return next;
  }
}
