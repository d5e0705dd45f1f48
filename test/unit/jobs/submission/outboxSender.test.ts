import { InfrastructureError } from '../../../../src/jobs/errors';
import { newJobMessage } from '../../../../src/jobs/model/jobMessage';
import type { OutgoingJobMessage } from '../../../../src/jobs/model/outgoingJobMessage';
import { firstMessageOf } from '../../../../src/jobs/model/outgoingJobMessage';
import { OutboxSender } from '../../../../src/jobs/submission/outboxSender';
import { silentLogger } from '../../../../src/jobs/support/logger';
import { ManualClock } from '../../../support/manualClock';

/** A queue that refuses while `down`, recording each send it takes. */
function brokerQueue() {
  const queue = {
    down: true,
    sends: [] as number[],
    sent: [] as string[],
    async send(messages: readonly OutgoingJobMessage[]) {
      if (queue.down) throw new InfrastructureError('QueueUnavailable', 'broker refuses connections');
      queue.sends.push(messages.length);
      queue.sent.push(...messages.map((message) => message.messageId));
    },
  };
  return queue;
}

const messages = (count: number) =>
  Array.from({ length: count }, () => firstMessageOf(newJobMessage({ jobType: 't', payload: {} })));

describe('OutboxSender', () => {
  it('when the broker answers again, then it finds out within a second and catches up several batches at once', async () => {
    const queue = brokerQueue();
    const clock = new ManualClock();
    const sender = new OutboxSender({ queue, logger: silentLogger, clock });
    const held = messages(950);
    for (let start = 0; start < held.length; start += 50) await sender.send(held.slice(start, start + 50));
    await clock.advance(30_000);

    queue.down = false;
    await clock.advance(1_000);
    await sender.whenSent();

    expect(new Set(queue.sent)).toEqual(new Set(held.map((message) => message.messageId)));
    expect(queue.sent).toHaveLength(950);
    // One batch to find out, then four at a time.
    expect(queue.sends).toEqual([100, 100, 100, 100, 100, 100, 100, 100, 100, 50]);
    expect(sender.waitingCount).toBe(0);
  });

  it('when a message is handed over twice while it waits, then it is sent once', async () => {
    const queue = brokerQueue();
    const clock = new ManualClock();
    const sender = new OutboxSender({ queue, logger: silentLogger, clock });
    const [message] = messages(1) as [OutgoingJobMessage];

    await sender.send([message]);
    await sender.send([message]);
    queue.down = false;
    await clock.advance(1_000);
    await sender.whenSent();

    expect(queue.sent).toEqual([message.messageId]);
  });

  it('keeps at most maxWaiting messages in memory, the newest (the rest are recorded: the reconciler sends them)', async () => {
    const queue = brokerQueue();
    const clock = new ManualClock();
    const sender = new OutboxSender({ queue, logger: silentLogger, clock, maxWaiting: 3 });
    const held = messages(5);

    await sender.send(held);
    queue.down = false;
    await clock.advance(1_000);
    await sender.whenSent();

    expect(queue.sent).toEqual(held.slice(2).map((message) => message.messageId));
  });
});
