import { startServiceBusEmulator, type StartedEmulator } from '../../tools/servicebus-emulator';
import { runPythonClient, writeCertificate, type ClientSteps } from './pythonClient';

const SCENARIOS = ['basic', 'abandon', 'deadletter', 'defer', 'schedule', 'peek', 'renew', 'delete'];

describe("Service Bus emulator: Microsoft's Python SDK (azure-servicebus 7 on uamqp)", () => {
  let emulator: StartedEmulator;
  let certificate: ReturnType<typeof writeCertificate>;
  beforeAll(async () => {
    const queues = Object.fromEntries(SCENARIOS.map((name) => [`sdk-${name}`, { MaxDeliveryCount: 5 }]));
    emulator = await startServiceBusEmulator({ queues: { ...queues, uamqp: {} }, tls: {} });
    certificate = writeCertificate(emulator.tls!.certificate);
  });
  afterAll(async () => {
    certificate.remove();
    await emulator.close();
  });

  describe('through its custom endpoint (AMQP over WebSocket with TLS), with no shim', () => {
    let steps: ClientSteps;
    beforeAll(async () => {
      steps = await runPythonClient('azure_servicebus_client.py', [
        String(emulator.tls!.port),
        certificate.path,
        'sdk',
      ]);
    }, 120_000);

    it('sends single messages and a batch, receives them in peek-lock and completes them', () => {
      expect(steps.complete).toMatchObject({ bodies: ['hello', 'batch-1', 'batch-2'], left: 0 });
    });

    it('abandons a message, which comes back with the delivery count one higher', () => {
      expect(steps.abandon).toMatchObject({ counts: [0, 1], body: 'retry me' });
    });

    it('dead-letters a message with reason and description, read back from the dead-letter sub-queue', () => {
      expect(steps.deadletter).toMatchObject({
        body: 'poison',
        reason: 'Poisoned',
        description: 'refused',
        source: 'sdk-deadletter',
      });
    });

    it('defers a message, receives it by sequence number with a lock token and completes it', () => {
      expect(steps.defer).toMatchObject({ meanwhile: 0, body: 'later', counts: [0, 1], left: 0 });
      expect(steps.defer?.lock_token).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
      );
    });

    it('schedules two messages, cancels one, and receives the other when it is due', () => {
      expect(steps.schedule).toMatchObject({ peeked: ['soon'], body: 'soon', after: 0 });
    });

    it('peeks from a sequence number without locking', () => {
      expect(steps.peek).toMatchObject({ peeked: ['p1', 'p2'], sequence_numbers: [1, 2], received: 3 });
    });

    it('renews a lock to a later time', () => {
      expect(steps.renew).toMatchObject({ later: true });
    });

    it('receives and deletes a message', () => {
      expect(steps['receive-and-delete']).toMatchObject({ body: 'gone once read', left: 0 });
      expect(steps.done).toBeDefined();
    });
  });

  it('serves uamqp itself over AMQPS (TLS, SASL MSSBCBS, put-token, send, peek-lock receive)', async () => {
    const steps = await runPythonClient('uamqp_client.py', [
      String(emulator.tls!.port),
      certificate.path,
      'uamqp',
    ]);

    expect(steps.send).toEqual({ step: 'send', results: ['MessageState.SendComplete'] });
    expect(steps.receive).toEqual({ step: 'receive', bodies: ['over amqps'] });
  }, 120_000);
});
