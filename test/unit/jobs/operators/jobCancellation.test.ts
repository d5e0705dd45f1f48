import type { JobHandler } from '../../../../src/jobs/jobTypes/jobHandler';
import { JobCancellation } from '../../../../src/jobs/operators/jobCancellation';
import { PermanentJobError } from '../../../../src/jobs/errors';
import type { JobMessage } from '../../../../src/jobs/model/jobMessage';
import { toWireBody } from '../../../../src/jobs/model/jobMessage';
import { newJobRecord } from '../../../../src/jobs/model/jobRecord';
import { silentLogger } from '../../../../src/jobs/support/logger';
import type { ReceivedJobMessage } from '../../../../src/jobs/model/receivedJobMessage';
import { createNewRecord, jobMessage } from '../../../support/jobFixtures';
import { dispatcherFor, scriptedHandler } from '../../../support/testRuntimeParts';
import { waitFor } from '../../../support/waitFor';

function received(job: JobMessage): ReceivedJobMessage {
  return { body: JSON.stringify(toWireBody(job)), messageId: job.jobId, deliveryCount: 1 };
}

/** A dispatcher and a canceller on one store, as in one app; `here: false` makes the canceller another instance. */
async function world(handler: JobHandler, { here = true, cancelCheckIntervalMs = 0, maxAttempts = 3 } = {}) {
  const parts = dispatcherFor([handler], { cancelCheckIntervalMs });
  const cancellation = new JobCancellation({
    store: parts.store,
    cancelRunning: (jobId) => (here ? parts.dispatcher.cancelRunning(jobId) : false),
    logger: silentLogger,
  });
  const job = jobMessage({ jobType: handler.jobType, payload: { value: 1 }, maxAttempts });
  await createNewRecord(parts.store, newJobRecord(job, new Date()));
  const record = async () => (await parts.store.get(job.jobId))?.record;
  return { ...parts, cancellation, job, record };
}

describe('JobCancellation', () => {
  it('when a job is queued, then it is Cancelled at once and its message completes without running it', async () => {
    const scripted = scriptedHandler();
    const { dispatcher, cancellation, job, record } = await world(scripted.handler);

    const result = await cancellation.cancel(job.jobId);
    const settlement = await dispatcher.dispatch(received(job));

    expect(result).toMatchObject({ outcome: 'Cancelled', record: { status: 'Cancelled', attempt: 0 } });
    expect(settlement).toEqual({ kind: 'complete' });
    expect(scripted.runs).toHaveLength(0);
    expect(await record()).toMatchObject({ status: 'Cancelled', completedAt: expect.any(String) });
  });

  it('when a job is waiting out a retry backoff, then the cancel wins: the retry copy completes without a run', async () => {
    const scripted = scriptedHandler();
    scripted.behave(async () => Promise.reject(new Error('flaky')));
    const { dispatcher, cancellation, retryQueue, job, record } = await world(scripted.handler);
    await dispatcher.dispatch(received(job));
    const retryCopy = retryQueue.scheduled[0]!.message;

    const result = await cancellation.cancel(job.jobId);
    const settlement = await dispatcher.dispatch(received(retryCopy.job));

    expect(result.outcome).toBe('Cancelled');
    expect(settlement).toEqual({ kind: 'complete' });
    expect(scripted.runs).toHaveLength(1);
    expect(await record()).toMatchObject({ status: 'Cancelled', attempt: 1, nextAttemptAt: null });
  });

  it('when a job is running, then its signal aborts with the cancel, no retry is scheduled, and it ends Cancelled', async () => {
    const scripted = scriptedHandler();
    let reason: unknown;
    scripted.behave(
      (context) =>
        new Promise((_, reject) =>
          context.signal.addEventListener('abort', () => reject((reason = context.signal.reason))),
        ),
    );
    const { dispatcher, cancellation, retryQueue, job, record } = await world(scripted.handler);
    const dispatched = dispatcher.dispatch(received(job));
    await waitFor(async () => (await record())?.status === 'Running');

    const result = await cancellation.cancel(job.jobId);

    expect(result).toMatchObject({ outcome: 'CancelRequested', record: { status: 'Running' } });
    expect(await dispatched).toEqual({ kind: 'complete' });
    expect(reason).toMatchObject({ code: 'Cancelled' });
    expect(retryQueue.scheduled).toHaveLength(0);
    expect(await record()).toMatchObject({
      status: 'Cancelled',
      cancelRequestedAt: expect.any(String),
      lastOutcome: { status: 'Failed', errorMessage: 'The job was cancelled.' },
    });
  });

  it('when the cancel comes from another instance, then the running worker sees it on the record and stops', async () => {
    const scripted = scriptedHandler();
    scripted.behave(
      (context) =>
        new Promise((_, reject) =>
          context.signal.addEventListener('abort', () => reject(new Error('stopped'))),
        ),
    );
    const { dispatcher, cancellation, job, record } = await world(scripted.handler, {
      here: false,
      cancelCheckIntervalMs: 10,
    });
    const dispatched = dispatcher.dispatch(received(job));
    await waitFor(async () => (await record())?.status === 'Running');

    expect((await cancellation.cancel(job.jobId)).outcome).toBe('CancelRequested');
    expect(await dispatched).toEqual({ kind: 'complete' });
    expect(await record()).toMatchObject({ status: 'Cancelled', attempt: 1 });
  });

  it('when a cancel lands just before the run is recorded as completed, then the job ends Cancelled, once', async () => {
    const scripted = scriptedHandler();
    // From another instance, so it cannot abort the run: the handler finishes, then the result write meets the cancel.
    const { dispatcher, cancellation, retryQueue, job, record } = await world(scripted.handler, {
      here: false,
    });
    scripted.behave(async () => {
      // The handler's work is done; the operator's cancel arrives before the dispatcher writes the result.
      expect((await cancellation.cancel(job.jobId)).outcome).toBe('CancelRequested');
    });

    expect(await dispatcher.dispatch(received(job))).toEqual({ kind: 'complete' });
    expect(await record()).toMatchObject({ status: 'Cancelled', lastOutcome: { status: 'Completed' } });
    expect(retryQueue.scheduled).toHaveLength(0);
  });

  it('when a cancel lands while a poison job ends its run, then the job ends Cancelled with no dead-letter reason (regression: it kept Poisoned, yet nothing was dead-lettered)', async () => {
    const scripted = scriptedHandler();
    const { dispatcher, cancellation, job, record } = await world(scripted.handler, { here: false });
    scripted.behave(async () => {
      expect((await cancellation.cancel(job.jobId)).outcome).toBe('CancelRequested');
      throw new PermanentJobError('the document is corrupt');
    });

    const settlement = await dispatcher.dispatch(received(job));

    expect(settlement).toEqual({ kind: 'complete' });
    expect(await record()).toMatchObject({
      status: 'Cancelled',
      deadLetterReason: null,
      deadLetterDescription: null,
      lastOutcome: { status: 'Poisoned' },
    });
  });

  it('when the job already finished, then nothing changes and the answer names its status', async () => {
    const scripted = scriptedHandler();
    const { dispatcher, cancellation, job, record } = await world(scripted.handler);
    await dispatcher.dispatch(received(job));
    const before = await record();

    const result = await cancellation.cancel(job.jobId);

    expect(result).toMatchObject({ outcome: 'AlreadyFinished', record: { status: 'Completed' } });
    expect(await record()).toEqual(before);
    await expect(cancellation.cancel('00000000-0000-4000-8000-000000000000')).rejects.toMatchObject({
      code: 'NotFound',
    });
  });
});
