import type { Connection } from 'rhea';
import { startServiceBusEmulator, type StartedEmulator } from '../../tools/servicebus-emulator';
import {
  AMQP_INT_TYPECODES,
  applicationPropertyTypeCode,
  closeClient,
  connectAsClient,
  linkClosed,
  nextMessage,
  openReceiver,
  openSender,
  recordFrames,
} from './rawAmqpClient';

const putToken = {
  message_id: 'put-token-1',
  application_properties: {
    operation: 'put-token',
    type: 'servicebus.windows.net:sastoken',
    name: 'sb://localhost/requests',
  },
  body: 'SharedAccessSignature sr=sb%3a%2f%2flocalhost%2frequests&sig=x&se=9999999999&skn=RootManageSharedAccessKey',
};

const peekRequest = (messageId: string, replyTo?: string) => ({
  message_id: messageId,
  ...(replyTo ? { reply_to: replyTo } : {}),
  application_properties: { operation: 'com.microsoft:peek-message' },
  body: { 'from-sequence-number': 1, 'message-count': 1 },
});

describe('Service Bus emulator: $cbs and $management as other clients use them', () => {
  let emulator: StartedEmulator;
  let connection: Connection;
  beforeAll(async () => {
    emulator = await startServiceBusEmulator({ queues: { requests: {} } });
  });
  beforeEach(async () => {
    connection = await connectAsClient(emulator.port);
  });
  afterEach(() => closeClient(connection));
  afterAll(() => emulator.close());

  it('answers a put-token without reply_to on the connection’s $cbs receiving link, as uamqp sends it', async () => {
    const replies = await openReceiver(connection, { source: '$cbs', target: 'cbs-replies' });
    const requests = await openSender(connection, { target: '$cbs' });

    const reply = nextMessage(replies);
    requests.send(putToken);
    const { message } = await reply;

    expect(message.correlation_id).toBe('put-token-1');
    expect(message.application_properties?.['status-code']).toBe(202);
    expect(AMQP_INT_TYPECODES).toContain(applicationPropertyTypeCode(message, 'status-code'));
  });

  it('answers $management with statusCode as an AMQP int, after accepting the request', async () => {
    const frames = recordFrames(connection);
    const replies = await openReceiver(connection, {
      name: 'mgmt-replies',
      source: 'requests/$management',
      target: 'mgmt-replies',
    });
    const requests = await openSender(connection, { target: 'requests/$management' });
    const before = frames.length;

    const reply = nextMessage(replies);
    requests.send(peekRequest('peek-1', 'mgmt-replies'));
    const { message } = await reply;
    const order = frames
      .slice(before)
      .filter((frame) => frame.performative !== 'flow')
      .map((frame) => frame.performative);

    expect(message.correlation_id).toBe('peek-1');
    expect(message.application_properties?.statusCode).toBe(204);
    expect(AMQP_INT_TYPECODES).toContain(applicationPropertyTypeCode(message, 'statusCode'));
    // uamqp fails an operation whose reply arrives before the disposition of its request.
    expect(order).toEqual(['disposition', 'transfer']);
  });

  it('serves a request/response pair of one link name in both directions, as Proton names them', async () => {
    const replies = await openReceiver(connection, {
      name: 'pair',
      source: 'requests/$management',
      target: 'pair',
    });
    const requests = await openSender(connection, { name: 'pair', target: 'requests/$management' });

    const reply = nextMessage(replies);
    requests.send(peekRequest('peek-pair', 'pair'));
    const { message } = await reply;

    expect(message.correlation_id).toBe('peek-pair');
    expect(message.application_properties?.statusCode).toBe(204);
    expect(connection.is_open()).toBe(true);
  });

  it('answers a $management request without reply_to on the link attached to that node', async () => {
    const replies = await openReceiver(connection, { source: 'requests/$management', target: 'any' });
    const requests = await openSender(connection, { target: 'requests/$management' });

    const reply = nextMessage(replies);
    requests.send(peekRequest('peek-no-reply-to'));
    const { message } = await reply;

    expect(message.correlation_id).toBe('peek-no-reply-to');
  });

  it('refuses a dynamic reply receiver with amqp:not-implemented: Service Bus documents fixed reply addresses only', async () => {
    const receiver = connection.open_receiver({ source: { dynamic: true } } as object);

    const error = await linkClosed(receiver);

    expect(error.condition).toBe('amqp:not-implemented');
    expect(error.description).toMatch(/Dynamic nodes are not supported/);
    expect(connection.is_open()).toBe(true);
  });
});
