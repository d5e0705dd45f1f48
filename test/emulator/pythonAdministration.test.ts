import { startServiceBusEmulator, type StartedEmulator } from '../../tools/servicebus-emulator';
import { runPythonClient, writeCertificate } from './pythonClient';

describe("Service Bus emulator: the administration API through Microsoft's Python SDK (its mgmt_queue samples)", () => {
  let emulator: StartedEmulator;
  let certificate: ReturnType<typeof writeCertificate>;
  beforeAll(async () => {
    emulator = await startServiceBusEmulator({ queues: { configured: {} }, tls: {} });
    certificate = writeCertificate(emulator.tls!.certificate);
  });
  afterAll(async () => {
    certificate.remove();
    await emulator.close();
  });

  it.each(['sync', 'async'])(
    'creates, lists, reads, updates, counts and deletes a queue, and reads the namespace (%s)',
    async (mode) => {
      const queue = `python-admin-${mode}`;

      const steps = await runPythonClient('administration_client.py', [
        String(emulator.tls!.port),
        certificate.path,
        queue,
        mode,
      ]);

      expect(steps.list?.names).toEqual(expect.arrayContaining(['configured', queue]));
      expect(steps.get).toMatchObject({
        name: queue,
        max_delivery_count: 10,
        dead_lettering_on_message_expiration: true,
      });
      expect(steps.updated).toMatchObject({ name: queue, max_delivery_count: 5 });
      expect(steps.runtime).toMatchObject({ name: queue, active: 0, scheduled: 0, dead_letter: 0, total: 0 });
      expect(steps.namespace).toMatchObject({ name: 'sbemulatorns', messaging_sku: 'Standard' });
      expect(steps.deleted).toMatchObject({ found: false });
      expect(steps.done).toBeDefined();
    },
    120_000,
  );
});
