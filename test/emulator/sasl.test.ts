import { startServiceBusEmulator, type StartedEmulator } from '../../tools/servicebus-emulator';
import { closeClient, connectAsClient } from './rawAmqpClient';

/** A client-side SASL mechanism for rhea: the name it asks for and the initial response it sends. */
function mechanism(name: string, initialResponse: Buffer): Record<string, unknown> {
  return {
    [name]: () => ({
      start: (done: (error: unknown, response: Buffer) => void) => done(undefined, initialResponse),
    }),
  };
}

function plainResponse(username: string, password: string): Buffer {
  return Buffer.from(`\0${username}\0${password}`);
}

describe('Service Bus emulator: SASL', () => {
  let emulator: StartedEmulator;
  beforeAll(async () => {
    emulator = await startServiceBusEmulator();
  });
  afterAll(() => emulator.close());

  it('lets in a client that asks for MSSBCBS, as .NET and uamqp do (claims follow over $cbs)', async () => {
    const connection = await connectAsClient(emulator.port, {
      sasl_mechanisms: mechanism('MSSBCBS', Buffer.alloc(0)),
    } as object);

    expect(connection.is_open()).toBe(true);
    await closeClient(connection);
  });

  it('lets in a client that asks for ANONYMOUS, as the JavaScript SDK does', async () => {
    const connection = await connectAsClient(emulator.port, {
      sasl_mechanisms: mechanism('ANONYMOUS', Buffer.from('anonymous')),
    } as object);

    expect(connection.is_open()).toBe(true);
    await closeClient(connection);
  });

  it('accepts PLAIN with the key name and key of the connection string, as Qpid JMS and Proton samples send', async () => {
    const connection = await connectAsClient(emulator.port, {
      username: 'RootManageSharedAccessKey',
      password: 'SAS_KEY_VALUE',
    });

    expect(connection.is_open()).toBe(true);
    await closeClient(connection);
  });

  it('refuses PLAIN with another key', async () => {
    const refused = connectAsClient(emulator.port, {
      sasl_mechanisms: mechanism('PLAIN', plainResponse('RootManageSharedAccessKey', 'wrong')),
    } as object);

    await expect(refused).rejects.toThrow(/amqp:unauthorized-access Failed to authenticate/);
  });

  it('refuses a mechanism it does not offer', async () => {
    const refused = connectAsClient(emulator.port, {
      sasl_mechanisms: mechanism('SCRAM-SHA-256', Buffer.alloc(0)),
    } as object);

    await expect(refused).rejects.toThrow(/No suitable mechanism; server supports ANONYMOUS,MSSBCBS,PLAIN/);
  });
});
