import type { Connection } from 'rhea';
import { startServiceBusEmulator, type StartedEmulator } from '../../tools/servicebus-emulator';
import {
  closeClient,
  connectAsClient,
  nextMessage,
  openReceiver,
  openSender,
  recordFrames,
  sendAndSettle,
} from './rawAmqpClient';

const RCV_SETTLE_FIRST = 0;
const RCV_SETTLE_SECOND = 1;

describe('Service Bus emulator: links as other clients open them', () => {
  let emulator: StartedEmulator;
  let connection: Connection;
  beforeAll(async () => {
    emulator = await startServiceBusEmulator({
      queues: { settle: {}, pipelined: {}, released: { MaxDeliveryCount: 2 } },
    });
  });
  beforeEach(async () => {
    connection = await connectAsClient(emulator.port);
  });
  afterEach(() => closeClient(connection));
  afterAll(() => emulator.close());

  it('answers a sender that asks for rcv-settle-mode second with first, and settles each transfer at once', async () => {
    const sender = await openSender(connection, { target: 'settle', rcv_settle_mode: RCV_SETTLE_SECOND });

    const result = await sendAndSettle(sender, { body: 'settled at once' });

    expect(sender.rcv_settle_mode).toBe(RCV_SETTLE_FIRST);
    expect(result).toEqual({ outcome: 'accepted', remoteSettled: true });
  });

  it('sends no transfer before its attach to a receiver that pipelines attach and flow on a non-empty queue', async () => {
    const sender = await openSender(connection, { target: 'pipelined' });
    await sendAndSettle(sender, { body: 'waiting' });
    const frames = recordFrames(connection);

    // Credit granted before the attach goes out: rhea then writes attach and flow in one pass, as Proton
    // does by default (rhea's own credit window waits for the server's attach).
    const receiver = connection.open_receiver({ source: 'pipelined', credit_window: 0, autoaccept: true });
    receiver.add_credit(10);
    const { message } = await nextMessage(receiver);
    const handle = (receiver as unknown as { local: { handle: number } }).local.handle;
    const onReceiver = frames.filter((frame) => frame.handle === handle || frame.performative === 'attach');

    expect(message.body).toBe('waiting');
    expect(onReceiver.map((frame) => frame.performative).slice(0, 2)).toEqual(['attach', 'transfer']);
    expect(connection.is_open()).toBe(true);
  });

  it('returns a released message without counting a delivery, unlike a modified (failed) one', async () => {
    const sender = await openSender(connection, { target: 'released' });
    await sendAndSettle(sender, { body: 'put back' });
    const receiver = await openReceiver(connection, {
      source: 'released',
      rcv_settle_mode: RCV_SETTLE_SECOND,
      autoaccept: false,
      credit_window: 1,
    });

    const counts: number[] = [];
    for (let i = 0; i < 3; i++) {
      const { message, delivery } = await nextMessage(receiver);
      counts.push(message.delivery_count ?? 0);
      delivery.release();
    }
    const { message: afterReleases, delivery: last } = await nextMessage(receiver);
    last.modified({ delivery_failed: true });
    const { message: afterFailure, delivery: final } = await nextMessage(receiver);
    final.accept();

    // MaxDeliveryCount 2 would have dead-lettered it after two counted deliveries.
    expect(counts).toEqual([0, 0, 0]);
    expect(afterReleases.delivery_count ?? 0).toBe(0);
    expect(afterFailure.delivery_count).toBe(1);
  });
});
