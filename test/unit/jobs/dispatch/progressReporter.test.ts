import { setTimeout as sleep } from 'node:timers/promises';
import { newJobRecord } from '../../../../src/jobs/model/jobRecord';
import type { JobRecord } from '../../../../src/jobs/model/jobRecord';
import { ProgressReporter } from '../../../../src/jobs/dispatch/progressReporter';
import { InMemoryJobStore } from '../../../../src/store/inMemoryJobStore';
import { createNewRecord, jobMessage } from '../../../support/jobFixtures';
import { dispatcherFor, scriptedHandler } from '../../../support/testRuntimeParts';
import { toWireBody } from '../../../../src/jobs/model/jobMessage';
import { waitFor } from '../../../support/waitFor';

/** An in-memory store that counts the record writes it is asked for. */
class CountingStore extends InMemoryJobStore {
  writes: JobRecord[] = [];

  override async replace(record: JobRecord, etag: string): Promise<string | undefined> {
    this.writes.push(record);
    return super.replace(record, etag);
  }
}

async function runningJob(store: InMemoryJobStore) {
  const record: JobRecord = { ...newJobRecord(jobMessage(), new Date()), status: 'Running', claimedBy: 'me' };
  return createNewRecord(store, record);
}

describe('ProgressReporter', () => {
  it('writes the first report at once, then at most one an interval, and keeps the latest', async () => {
    const store = new CountingStore();
    const claimed = await runningJob(store);
    const reporter = new ProgressReporter({ store, claimed, workerId: 'me', intervalMs: 100 });

    const started = performance.now();
    for (let percent = 0; percent <= 60; percent += 1) {
      reporter.report(percent, `step ${percent}`);
      await sleep(5);
    }
    const elapsed = performance.now() - started;
    const { current, progress } = await reporter.finish();

    expect(store.writes.length).toBeGreaterThanOrEqual(2);
    expect(store.writes.length).toBeLessThanOrEqual(Math.ceil(elapsed / 100) + 1);
    expect(store.writes[0]?.progress).toMatchObject({ percent: 0, note: 'step 0' });
    expect(progress).toMatchObject({ percent: 60, note: 'step 60' });
    expect((await store.get(claimed.record.jobId))?.etag).toBe(current.etag);
  });

  it('clamps the percent, and drops reports once the job is no longer its worker’s', async () => {
    const store = new CountingStore();
    const claimed = await runningJob(store);
    const reporter = new ProgressReporter({ store, claimed, workerId: 'me', intervalMs: 10 });
    reporter.report(140);
    await waitFor(() => store.writes.length === 1);
    const taken = await store.get(claimed.record.jobId);
    await store.replace({ ...taken!.record, claimedBy: 'someone-else' }, taken!.etag);

    reporter.report(50);
    await reporter.finish();

    expect(store.writes[0]?.progress?.percent).toBe(100);
    expect((await store.get(claimed.record.jobId))?.record).toMatchObject({
      claimedBy: 'someone-else',
      progress: { percent: 100 },
    });
  });
});

describe('progress through the dispatcher', () => {
  it('when a handler reports progress, then its record shows it while it runs, and the last report stays', async () => {
    const scripted = scriptedHandler();
    const { dispatcher, store } = dispatcherFor([scripted.handler]);
    const job = jobMessage({ jobType: 'test.scripted', payload: { value: 1 } });
    let seen: JobRecord | undefined;
    scripted.behave(async (context) => {
      context.progress(30, 'copying');
      seen = await waitFor(async () => {
        const record = (await store.get(job.jobId))?.record;
        return record?.progress ? record : undefined;
      });
      context.progress(90, 'almost');
    });

    await dispatcher.dispatch({
      body: JSON.stringify(toWireBody(job)),
      messageId: job.jobId,
      deliveryCount: 1,
    });

    expect(seen).toMatchObject({ status: 'Running', progress: { percent: 30, note: 'copying' } });
    expect((await store.get(job.jobId))?.record).toMatchObject({
      status: 'Completed',
      progress: { percent: 90, note: 'almost' },
    });
  });
});
