import type { NamespaceDescription, QueueDescription } from './atomDocuments';
import type { NamespaceSettings, QueueSettings } from './emulatorConfig';
import type { QueueHooks } from './queueEntity';
import { QueueEntity } from './queueEntity';

export type EntityLookup =
  { kind: 'queue'; queue: QueueEntity } | { kind: 'error'; condition: string; description: string };

const DEAD_LETTER_QUEUE = '$deadletterqueue';

/** The namespace's entities, looked up by path the way the service does (case-insensitively). */
export class Namespace {
  private readonly queues = new Map<string, QueueEntity>();
  private readonly topics: Set<string>;
  private readonly hooks: QueueHooks;
  /** When each queue was created and last changed, for the administration API. */
  private readonly times = new Map<QueueEntity, { createdAt: Date; updatedAt: Date }>();
  private readonly createdAt = new Date();

  constructor(
    private readonly settings: NamespaceSettings,
    requestDeadline: (deadline: number) => void,
  ) {
    this.hooks = { requestDeadline, findQueue: (name: string) => this.queues.get(name.toLowerCase()) };
    for (const queue of settings.queues) this.createQueue(queue);
    this.topics = new Set(settings.topicNames.map((name) => name.toLowerCase()));
  }

  description(): NamespaceDescription {
    return { name: this.settings.name, createdAt: this.createdAt };
  }

  isTopic(name: string): boolean {
    return this.topics.has(name.toLowerCase());
  }

  /** Adds a queue, as Config.json or the administration API declares it. */
  createQueue(settings: QueueSettings): void {
    const queue = new QueueEntity({ ...settings }, settings.name, this.hooks);
    this.queues.set(settings.name.toLowerCase(), queue);
    const now = new Date();
    this.times.set(queue, { createdAt: now, updatedAt: now });
  }

  /**
   * Changes a queue's settings in place: its messages stay, and what it does next follows the new settings (the
   * administration API refuses to change RequiresSession and RequiresDuplicateDetection, as the service does).
   */
  updateQueue(settings: QueueSettings): void {
    const queue = this.queues.get(settings.name.toLowerCase());
    if (!queue) return;
    Object.assign(queue.settings, settings, { name: queue.settings.name });
    this.times.get(queue)!.updatedAt = new Date();
  }

  /** Removes a queue and its messages; links open on it keep what they hold until they close. */
  deleteQueue(name: string): boolean {
    const queue = this.queues.get(name.toLowerCase());
    if (!queue) return false;
    this.queues.delete(name.toLowerCase());
    this.times.delete(queue);
    return true;
  }

  queueDescription(name: string): QueueDescription | undefined {
    const queue = this.queues.get(name.toLowerCase());
    return queue && this.describe(queue);
  }

  queueDescriptions(): QueueDescription[] {
    return [...this.queues.values()]
      .map((queue) => this.describe(queue))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  private describe(queue: QueueEntity): QueueDescription {
    const times = this.times.get(queue)!;
    const { active, scheduled, total, sizeInBytes } = queue.runtimeCounts();
    const deadLetter = queue.deadLetterQueue?.runtimeCounts() ?? { total: 0, sizeInBytes: 0 };
    return {
      ...queue.settings,
      createdAt: times.createdAt,
      updatedAt: times.updatedAt,
      accessedAt: new Date(),
      counts: {
        active,
        scheduled,
        deadLetter: deadLetter.total,
        total: total + deadLetter.total,
        sizeInBytes: sizeInBytes + deadLetter.sizeInBytes,
      },
    };
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
