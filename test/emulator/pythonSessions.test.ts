import { startServiceBusEmulator, type StartedEmulator } from '../../tools/servicebus-emulator';
import { runPythonClient, writeCertificate, type ClientSteps } from './pythonClient';

const MODES = ['sync', 'async'] as const;
/** The scripts' LOCK_SECONDS: short locks, so that the samples' 100 s of lock renewal take 9 s. */
const LOCK = 'PT4S';

describe("Service Bus emulator: Microsoft's Python session samples (azure-servicebus 7 on uamqp), sync and async", () => {
  let emulator: StartedEmulator;
  let certificate: ReturnType<typeof writeCertificate>;
  beforeAll(async () => {
    const queues: Record<string, Record<string, unknown>> = {};
    for (const mode of MODES) {
      const sessions = { RequiresSession: true, LockDuration: LOCK, MaxDeliveryCount: 10 };
      queues[`py-${mode}-session`] = sessions;
      queues[`py-${mode}-pool`] = sessions;
      queues[`py-${mode}-renew-session`] = sessions;
      queues[`py-${mode}-renew`] = { LockDuration: LOCK, MaxDeliveryCount: 10 };
      queues[`py-${mode}-renew-failure`] = { LockDuration: LOCK, MaxDeliveryCount: 10 };
    }
    // uamqp names no timeout when it asks for the next available session; the service then waits 65 s.
    emulator = await startServiceBusEmulator({ queues, tls: {}, acceptNextSessionTimeoutMs: 1000 });
    certificate = writeCertificate(emulator.tls!.certificate);
  });
  afterAll(async () => {
    certificate.remove();
    await emulator.close();
  });

  /** Runs one scenario of session_samples.py in both modes at once; returns its report in each. */
  async function runBoth(scenario: string): Promise<Record<(typeof MODES)[number], ClientSteps>> {
    const [sync, async] = await Promise.all(
      MODES.map((mode) =>
        runPythonClient(
          'session_samples.py',
          [mode, scenario, String(emulator.tls!.port), certificate.path, `py-${mode}`],
          30_000,
        ),
      ),
    );
    return { sync: sync!, async: async! };
  }

  it('session_send_receive: a session receiver gets the session in order, with its state and lock renewal', async () => {
    const steps = await runBoth('session_send_receive');

    for (const mode of MODES) {
      const step = steps[mode].session_send_receive;
      expect(step).toMatchObject({
        session_id: 'sample-session',
        states: ['START', 'END'],
        message_session_ids: ['sample-session'],
        renewals: 10,
        renewals_later: true,
        left: 11,
        left_session_ids: ['sample-session'],
      });
      expect(step?.bodies).toEqual(['Single session message', ...Array(9).fill('Session Message in list')]);
    }
  }, 30_000);

  it('session_pool_receive: five receivers take every session once, in order, then time out', async () => {
    const steps = await runBoth('session_pool_receive');

    expect(steps.sync.session_pool_receive).toMatchObject({
      sessions: 10,
      received: 200,
      sessions_received: true,
      in_order: true,
    });
    expect(steps.async.session_pool_receive).toMatchObject({
      sessions: 5,
      received: 105,
      sessions_received: true,
      shutdown_last: true,
    });
    for (const mode of MODES) {
      expect(steps[mode].session_pool_receive?.outcomes).toEqual(Array(5).fill('OperationTimeoutError'));
    }
  }, 30_000);

  it('auto_lock_renew (messages): ten message locks are renewed while the handler works, then completed', async () => {
    const steps = await runBoth('renew_messages');

    for (const mode of MODES) {
      expect(steps[mode].renew_messages).toMatchObject({ received: 10, renewed: 10, left: 0 });
    }
  }, 30_000);

  it('auto_lock_renew (session): the session lock is renewed while the handler works, then all is completed', async () => {
    const steps = await runBoth('renew_session');

    for (const mode of MODES) {
      expect(steps[mode].renew_session).toMatchObject({ received: 10, session_renewed: true, left: 0 });
    }
  }, 30_000);

  it('auto_lock_renew (failure callback): a lock renewed too late is lost, the callback says so, the message comes back', async () => {
    const steps = await runBoth('renew_failure');

    for (const mode of MODES) {
      const step = steps[mode].renew_failure;
      expect(step).toMatchObject({ received: 1, redelivered: ['message', 1] });
      expect(step?.failures).toHaveLength(1);
      expect(step?.settle_error).toMatch(/Error$/);
    }
  }, 30_000);
});
