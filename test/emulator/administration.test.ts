import { request } from 'node:http';
import type { ServiceBusAdministrationClient } from '@azure/service-bus';
import { createServiceBusAdministrationClient } from '../../src/queue/serviceBusClientFactory';
import { startServiceBusEmulator, type StartedEmulator } from '../../tools/servicebus-emulator';

/** One raw call to the emulator's administration API: its status and body. */
function call(
  port: number,
  method: string,
  path: string,
  body = '',
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const sent = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: { 'Content-Length': Buffer.byteLength(body), ...headers },
      },
      (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
      },
    );
    sent.on('error', reject);
    sent.end(body);
  });
}

const queueEntry = (description: string) =>
  '<entry xmlns="http://www.w3.org/2005/Atom"><content type="application/xml">' +
  `<QueueDescription xmlns="http://schemas.microsoft.com/netservices/2010/10/servicebus/connect">${description}</QueueDescription>` +
  '</content></entry>';

describe("Service Bus emulator: the administration API through the JavaScript SDK's client", () => {
  let emulator: StartedEmulator;
  let admin: ServiceBusAdministrationClient;
  beforeAll(async () => {
    emulator = await startServiceBusEmulator({ port: 0, queues: { configured: { MaxDeliveryCount: 4 } } });
    admin = createServiceBusAdministrationClient({
      connectionString: emulator.connectionString,
      fullyQualifiedNamespace: undefined,
      identity: { managedIdentity: false, clientId: undefined },
      queueName: 'configured',
      settlement: 'host',
    });
  });
  afterAll(() => emulator?.close());

  it('creates, reads, updates, lists and deletes a queue', async () => {
    const created = await admin.createQueue('js-admin', { maxDeliveryCount: 6, lockDuration: 'PT20S' });
    const updated = await admin.updateQueue({ ...(await admin.getQueue('js-admin')), maxDeliveryCount: 8 });
    const names: string[] = [];
    for await (const queue of admin.listQueues()) names.push(queue.name);
    await admin.deleteQueue('js-admin');

    expect(created).toMatchObject({ name: 'js-admin', maxDeliveryCount: 6, lockDuration: 'PT20S' });
    expect(updated).toMatchObject({ name: 'js-admin', maxDeliveryCount: 8, lockDuration: 'PT20S' });
    expect(names).toEqual(['configured', 'js-admin']);
    expect(await admin.queueExists('js-admin')).toBe(false);
    await expect(admin.getQueue('js-admin')).rejects.toMatchObject({ code: 'MessageEntityNotFoundError' });
  });

  it('describes a configured queue and the namespace', async () => {
    expect(await admin.getQueue('configured')).toMatchObject({ name: 'configured', maxDeliveryCount: 4 });
    expect(await admin.getNamespaceProperties()).toMatchObject({
      name: 'sbemulatorns',
      messagingSku: 'Standard',
    });
  });

  it.each([
    ['RequiresSession', '<RequiresSession>true</RequiresSession>', /RequiresSession cannot be changed/],
    ['a duration', '<LockDuration>soon</LockDuration>', /LockDuration 'soon' is not a positive duration/],
    [
      'a count',
      '<MaxDeliveryCount>0</MaxDeliveryCount>',
      /MaxDeliveryCount '0' is not a whole number from 1/,
    ],
  ])(
    'refuses an update that sets %s it cannot, with 400 and the reason',
    async (_what, description, reason) => {
      const answer = await call(
        emulator.port,
        'PUT',
        '/configured?api-version=2021-05',
        queueEntry(description),
        {
          'If-Match': '*',
        },
      );

      expect(answer.status).toBe(400);
      expect(answer.body).toMatch(reason);
    },
  );

  it('refuses a body that is not a queue entry with 400, and a topic with 501', async () => {
    const notAnEntry = await call(emulator.port, 'PUT', '/other?api-version=2021-05', '{"json": true}');
    const topic = await call(
      emulator.port,
      'PUT',
      '/events?api-version=2021-05',
      '<entry xmlns="http://www.w3.org/2005/Atom"><content><TopicDescription/></content></entry>',
    );

    expect(notAnEntry).toMatchObject({
      status: 400,
      body: expect.stringMatching(/not an Atom entry with a QueueDescription/),
    });
    expect(topic).toMatchObject({
      status: 501,
      body: expect.stringMatching(/topics, subscriptions and rules are not implemented/),
    });
  });
});
