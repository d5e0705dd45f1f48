import { startServiceBusEmulator, type StartedEmulator } from '../../tools/servicebus-emulator';
import { runPythonClient, writeCertificate, type ClientSteps } from './pythonClient';

describe('Service Bus emulator: Apache Qpid Proton with its default options', () => {
  let emulator: StartedEmulator;
  let certificate: ReturnType<typeof writeCertificate>;
  let steps: ClientSteps;
  beforeAll(async () => {
    emulator = await startServiceBusEmulator({ queues: { proton: { MaxDeliveryCount: 5 } }, tls: {} });
    certificate = writeCertificate(emulator.tls!.certificate);
    steps = await runPythonClient('proton_client.py', [
      String(emulator.port),
      String(emulator.tls!.port),
      certificate.path,
      'proton',
    ]);
  }, 120_000);
  afterAll(async () => {
    certificate.remove();
    await emulator.close();
  });

  it('gets a put-token answered on $cbs over amqps with SASL PLAIN', () => {
    expect(steps.cbs).toMatchObject({ status: 202, correlation: true });
  });

  it('sends messages that the emulator settles', () => {
    expect(steps.send).toMatchObject({ sent: 4 });
  });

  it('peeks through $management with a request/response pair of one link name', () => {
    expect(steps.management).toMatchObject({ status: 200, peeked: 4 });
  });

  it('receives on a non-empty queue and settles with every outcome: released is not counted, modified is', () => {
    expect(steps.settle?.delivery_counts).toEqual({
      released: [0, 0],
      modified: [0, 1],
      rejected: [0],
      accepted: [0],
    });
  });

  it('finds the rejected message in the dead-letter sub-queue', () => {
    expect(steps['dead-letter']).toMatchObject({ body: 'rejected' });
    expect(steps.done).toBeDefined();
  });
});
