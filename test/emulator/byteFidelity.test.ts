import rhea from 'rhea';
import type { Connection, EventContext, Message } from 'rhea';
import { startServiceBusEmulator, type StartedEmulator } from '../../tools/servicebus-emulator';
import { SECTION, rawBytesOf, readSections } from '../../tools/servicebus-emulator/amqpCodec';
import { connectAsClient } from './rawAmqpClient';

/** Through plain rhea, to control AMQP types the SDK would choose itself. */
describe('Service Bus emulator: byte fidelity', () => {
  let emulator: StartedEmulator;
  let connection: Connection;

  beforeAll(async () => {
    emulator = await startServiceBusEmulator({ port: 0, queues: { bytes: {} } });
    connection = await connectAsClient(emulator.port);
  });

  afterAll(async () => {
    connection.close();
    await emulator.close();
  });

  it('delivers the bare message exactly as sent, AMQP types included', async () => {
    const { types, message } = rhea;
    const sent = message.encode({
      message_id: types.wrap_ulong(42),
      correlation_id: 'corr',
      subject: 'typed',
      application_properties: {
        asLong: types.wrap_long(7),
        asShort: types.wrap_short(3),
        asSymbol: types.wrap_symbol('sym'),
        asUuid: types.wrap_uuid(Buffer.alloc(16, 0xab)),
      },
      body: message.sequence_sections([[1, 'x'], [types.wrap_ubyte(2)]]),
      footer: { sig: 'f' },
    });
    const sender = connection.open_sender({ target: { address: 'bytes' } });
    const received = new Promise<Message>((resolve) => {
      const receiver = connection.open_receiver({ source: { address: 'bytes' }, autoaccept: true });
      receiver.on('message', (context: EventContext) => resolve(context.message!));
    });

    await new Promise<void>((resolve) => sender.once('sendable', () => resolve()));
    sender.send(sent, undefined, 0);
    const delivered = rawBytesOf(await received)!;

    expect(bareMessage(delivered)).toEqual(bareMessage(sent));
    const sentSections = readSections(sent).map((section) => section.code);
    expect(readSections(delivered).map((section) => section.code)).toEqual([
      SECTION.header,
      SECTION.messageAnnotations,
      ...sentSections.filter((code) => code !== SECTION.header),
    ]);
  });
});

function bareMessage(encoded: Buffer): Buffer {
  const sections = readSections(encoded);
  const start = sections.find((section) => section.code >= SECTION.properties)?.start ?? encoded.length;
  return encoded.subarray(start);
}
