import { performance } from 'node:perf_hooks';
import { ServiceBusClient } from '@azure/service-bus';
import type { OutgoingJobMessage } from '../../src/jobs/model/outgoingJobMessage';
import { firstMessageOf } from '../../src/jobs/model/outgoingJobMessage';
import { createServiceBusClient } from '../../src/queue/serviceBusClientFactory';
import { ServiceBusDeadLetterQueue } from '../../src/queue/serviceBusDeadLetterQueue';
import { ServiceBusJobQueue } from '../../src/queue/serviceBusJobQueue';
import type { StartedEmulator } from '../../tools/servicebus-emulator';
import { startServiceBusEmulator } from '../../tools/servicebus-emulator';
import { jobMessage } from '../support/jobFixtures';
import { TcpProxy } from '../support/tcpProxy';
import { waitFor } from '../support/waitFor';

const budgetMs = 1_500;
// Far above the budget, far below the SDK's own give-up time (3 retries × 60 s): only the budget can pass it.
const budgetWithSlackMs = 10_000;

let emulator: StartedEmulator;
let direct: ServiceBusClient;
let queueCount = 0;

beforeAll(async () => {
  emulator = await startServiceBusEmulator({
    port: 0,
    queues: Object.fromEntries(
      Array.from({ length: 10 }, (_, index) => [`budget-${index + 1}`, { RequiresDuplicateDetection: true }]),
    ),
  });
  direct = new ServiceBusClient(emulator.connectionString);
});

afterAll(async () => {
  await direct?.close();
  await emulator?.close();
});

/** A client that reaches the emulator through a proxy, with the SDK's default retries, as in production. */
function world() {
  const queueName = `budget-${++queueCount}`;
  const proxy = new TcpProxy('127.0.0.1', emulator.port);
  const connectionString = () => emulator.connectionString.replace(`:${emulator.port};`, `:${proxy.port};`);
  const client = () => new ServiceBusClient(connectionString());
  return {
    queueName,
    proxy,
    connectionString,
    client,
    /** Drops open connections; new ones are accepted and never answered. */
    async blackHole() {
      proxy.swallow = true;
      await proxy.cut();
      await proxy.restore();
    },
    async answerAgain() {
      if (!proxy.swallow) return;
      proxy.swallow = false;
      await proxy.cut();
      await proxy.restore();
    },
    /** The queue's active messages, read past the proxy. */
    async messageIds(): Promise<string[]> {
      const receiver = direct.createReceiver(queueName);
      try {
        return (await receiver.peekMessages(10)).map((message) => String(message.messageId));
      } finally {
        await receiver.close();
      }
    },
  };
}

function outgoing(): OutgoingJobMessage {
  return firstMessageOf(jobMessage());
}

/** How `call` failed, and how long it took to. */
async function failureOf(call: () => Promise<unknown>): Promise<{ error: unknown; elapsedMs: number }> {
  const startedAt = performance.now();
  const error = await call().then(
    () => new Error('expected the call to fail'),
    (caught: unknown) => caught,
  );
  return { error, elapsedMs: performance.now() - startedAt };
}

describe('Service Bus job queue, when the broker accepts connections but never answers', () => {
  let sb: ReturnType<typeof world>;
  let queue: ServiceBusJobQueue;

  beforeEach(async () => {
    sb = world();
    await sb.proxy.start();
    queue = new ServiceBusJobQueue(sb.client(), sb.queueName, { callTimeoutMs: budgetMs });
    // Before the first call: a connection dropped under a call in flight would take a different path, whichever
    // the SDK happened to notice first.
    await sb.blackHole();
  });

  afterEach(async () => {
    await sb.answerAgain();
    await queue.close();
    await sb.proxy.cut();
  });

  it.each([
    ['one message', 'send', 'sent', () => queue.send([outgoing()])],
    // More than one message goes through createMessageBatch first.
    ['a batch', 'send', 'sent', () => queue.send([outgoing(), outgoing()])],
    ['a retry', 'schedule', 'scheduled', () => queue.schedule(outgoing(), new Date())],
  ])('then sending %s fails QueueUnavailable within its budget', async (_what, operation, done, call) => {
    const { error, elapsedMs } = await failureOf(call);

    expect(error).toMatchObject({
      name: 'InfrastructureError',
      code: 'QueueUnavailable',
      message: `Service Bus did not answer the ${operation} within ${budgetMs} ms; the message may or may not have been ${done}.`,
    });
    expect(elapsedMs).toBeLessThan(budgetWithSlackMs);
  });

  it('then, once the broker answers again, a send on the same queue object goes through', async () => {
    const lost = outgoing();
    const later = outgoing();
    await expect(queue.send([lost])).rejects.toMatchObject({ code: 'QueueUnavailable' });

    await sb.answerAgain();
    // The first send after the black hole joins the SDK's connection attempt the black hole swallowed, and fails
    // as that attempt is dropped ("Failed to connect"); a caller sends again, and the same message id keeps one copy.
    await waitFor(
      () =>
        queue.send([later]).then(
          () => true,
          () => undefined,
        ),
      {
        timeoutMs: 20_000,
        description: 'a send that goes through',
      },
    );

    const onTheQueue = await sb.messageIds();
    expect(onTheQueue.filter((id) => id === later.messageId)).toHaveLength(1);
    expect(onTheQueue).not.toContain(lost.messageId);
  });
});

describe("Service Bus job queue on the app's client, when its connection drops under a send and the broker is back a moment later", () => {
  it('then the send goes through within its budget: the client tries again soon, as the host trigger does', async () => {
    const sb = world();
    await sb.proxy.start();
    const client = createServiceBusClient({
      connectionString: sb.connectionString(),
      fullyQualifiedNamespace: undefined,
      identity: { managedIdentity: false, clientId: undefined },
      queueName: sb.queueName,
      settlement: 'host',
    });
    // A budget the SDK's own pause between tries (30 s) would overrun.
    const queue = new ServiceBusJobQueue(client, sb.queueName, { callTimeoutMs: 8_000 });
    await queue.send([outgoing()]);
    const cutUnder = outgoing();

    await sb.proxy.cut();
    const sending = queue.send([cutUnder]);
    // A blip of a second, as the soak's broker cuts are.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await sb.proxy.restore();

    await expect(sending).resolves.toBeUndefined();
    expect((await sb.messageIds()).filter((id) => id === cutUnder.messageId)).toHaveLength(1);
    await queue.close();
    await sb.proxy.cut();
  });
});

describe('Service Bus job queue, when its connection drops just before it is closed', () => {
  it('then closing still returns within the budget', async () => {
    const sb = world();
    await sb.proxy.start();
    const queue = new ServiceBusJobQueue(sb.client(), sb.queueName, { callTimeoutMs: budgetMs });
    await queue.send([outgoing()]);
    await sb.proxy.cut();
    await sb.proxy.restore();

    const startedAt = performance.now();
    await queue.close();

    expect(performance.now() - startedAt).toBeLessThan(budgetWithSlackMs);
    await sb.proxy.cut();
  });
});

describe('Service Bus dead-letter queue, when the broker accepts connections but never answers', () => {
  let sb: ReturnType<typeof world>;
  let deadLetters: ServiceBusDeadLetterQueue;

  beforeEach(async () => {
    sb = world();
    await sb.proxy.start();
    deadLetters = new ServiceBusDeadLetterQueue(sb.client(), sb.queueName, { callTimeoutMs: budgetMs });
    await sb.blackHole();
  });

  afterEach(async () => {
    await sb.answerAgain();
    await deadLetters.close();
    await sb.proxy.cut();
  });

  it.each([
    ['listing', () => deadLetters.peekDeadLetters(10)],
    ['reading one', () => deadLetters.peekDeadLetter('1')],
    ['locking one', () => deadLetters.lockDeadLetter('1')],
  ])('then %s fails QueueUnavailable within its budget', async (_operation, call) => {
    const { error, elapsedMs } = await failureOf(call);

    expect(error).toMatchObject({
      name: 'InfrastructureError',
      code: 'QueueUnavailable',
      message: `Service Bus did not answer the dead-letter peek within ${budgetMs} ms.`,
    });
    expect(elapsedMs).toBeLessThan(budgetWithSlackMs);
  });
});
