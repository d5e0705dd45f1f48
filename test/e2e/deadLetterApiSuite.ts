import type { DeadLetterItem, DeadLetterListing } from '../../src/jobs/operators/deadLetterService';
import type { JobRecord } from '../../src/jobs/model/jobRecord';
import { getJobRecord, isSettled, jobRecordWhen, submitJob } from '../support/jobApi';
import { waitFor } from '../support/waitFor';
import type { JobApiHarness } from './jobApiSuite';

/** Drives the dead-letter API of a running app over HTTP, as an operator would. */
export function deadLetterClient(baseUrl: string) {
  const api = `${baseUrl}/api`;
  const json = (body: unknown) => ({
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const client = {
    submit: (job: unknown): Promise<string> => submitJob(baseUrl, job),
    record: (jobId: string): Promise<JobRecord> => getJobRecord(baseUrl, jobId),
    recordWhen: (jobId: string, accept: (record: JobRecord) => boolean): Promise<JobRecord> =>
      jobRecordWhen(baseUrl, jobId, accept, { read: getJobRecord }),
    async list(query = ''): Promise<DeadLetterListing> {
      const response = await fetch(`${api}/deadletters${query}`);
      expect(response.status).toBe(200);
      return (await response.json()) as DeadLetterListing;
    },
    /** Waits until the job's message is in the dead-letter sub-queue (in `host` settlement, after MaxDeliveryCount). */
    deadLettered(jobId: string, timeoutMs = 20_000): Promise<DeadLetterItem> {
      return waitFor(async () => (await client.list()).items.find((item) => item.jobId === jobId), {
        timeoutMs,
        intervalMs: 50,
        description: `job ${jobId} in the dead-letter sub-queue`,
      });
    },
    replay: (sequenceNumber: string, body?: unknown) =>
      fetch(`${api}/deadletters/${sequenceNumber}/replay`, {
        method: 'POST',
        ...(body === undefined ? {} : json(body)),
      }),
    replayMatching: (body: unknown) => fetch(`${api}/deadletters/replay`, { method: 'POST', ...json(body) }),
    discard: (sequenceNumber: string) => fetch(`${api}/deadletters/${sequenceNumber}`, { method: 'DELETE' }),
  };
  return client;
}

/**
 * The dead-letter operations every transport must pass, over HTTP. Each case leaves the sub-queue as it found it
 * (empty), so cases can assert on the whole of it.
 */
export function describeDeadLetterApi(transport: string, startApp: () => Promise<JobApiHarness>): void {
  describe(`dead-letter API end to end (${transport})`, () => {
    let app: JobApiHarness;
    let dlq: ReturnType<typeof deadLetterClient>;

    beforeAll(async () => {
      app = await startApp();
      dlq = deadLetterClient(app.baseUrl);
    });

    afterAll(() => app?.close());

    it('when a job runs out of attempts, then it is listed as MaxRetriesExceeded, and a replay runs it to completion', async () => {
      const jobId = await dlq.submit({
        jobType: 'diagnostics.simulate',
        payload: { failTimes: 2 },
        maxAttempts: 2,
        correlationId: 'corr-replay',
      });

      const item = await dlq.deadLettered(jobId);
      const listing = await dlq.list();

      expect(item).toMatchObject({
        jobId,
        jobType: 'diagnostics.simulate',
        reason: 'MaxRetriesExceeded',
        attempts: 2,
      });
      expect(item.description).toMatch(/Failed 2 of 2 attempts/);
      expect(Date.parse(item.deadLetteredAt ?? '')).not.toBeNaN();
      expect(listing.counts).toEqual({
        byReason: { MaxRetriesExceeded: 1 },
        byJobType: { 'diagnostics.simulate': 1 },
      });
      expect(listing).toMatchObject({ scanned: 1, matched: 1, truncated: false });

      const response = await dlq.replay(item.sequenceNumber);

      expect(response.status).toBe(202);
      expect(await response.json()).toMatchObject({
        jobId,
        sequenceNumber: item.sequenceNumber,
        messageId: `${jobId}:cycle-2:attempt-1`,
        payloadCorrected: false,
        removedFromDeadLetterQueue: true,
      });
      const record = await dlq.recordWhen(jobId, isSettled);
      expect(record).toMatchObject({
        status: 'Completed',
        attempt: 1,
        correlationId: 'corr-replay',
        deadLetterReason: null,
        deadLetterActions: [
          {
            action: 'Replayed',
            sequenceNumber: item.sequenceNumber,
            reason: 'MaxRetriesExceeded',
            payloadCorrected: false,
          },
        ],
      });
      expect(record.outcomes.map((outcome) => [outcome.attempt, outcome.status])).toEqual([
        [1, 'Failed'],
        [2, 'Failed'],
        [1, 'Completed'],
      ]);
      expect(await dlq.list()).toMatchObject({
        items: [],
        scanned: 0,
        counts: { byReason: {}, byJobType: {} },
      });
    });

    it('when a replay carries a corrected payload that fails the schema, then it is refused 400 and the message stays', async () => {
      const jobId = await dlq.submit({ jobType: 'diagnostics.simulate', payload: { poison: true } });
      const item = await dlq.deadLettered(jobId);

      const refused = await dlq.replay(item.sequenceNumber, { payload: { failTimes: -1 } });

      expect(refused.status).toBe(400);
      expect(refused.headers.get('content-type')).toBe('application/problem+json');
      expect(((await refused.json()) as { errors: unknown[] }).errors).toEqual([
        expect.objectContaining({ field: '/payload/failTimes' }),
      ]);
      expect((await dlq.list()).items).toEqual([item]);
      expect(await dlq.record(jobId)).toMatchObject({
        status: 'DeadLettered',
        deadLetterReason: 'Poisoned',
        deadLetterActions: [],
      });

      const corrected = await dlq.replay(item.sequenceNumber, { payload: { durationMs: 1 } });

      expect(corrected.status).toBe(202);
      expect(await dlq.recordWhen(jobId, isSettled)).toMatchObject({
        status: 'Completed',
        deadLetterActions: [{ action: 'Replayed', reason: 'Poisoned', payloadCorrected: true }],
      });
      expect((await dlq.list()).scanned).toBe(0);
    });

    it('when a replayed job fails again, then its retries run under ids no earlier cycle used, and it is dead-lettered once', async () => {
      const jobId = await dlq.submit({
        jobType: 'diagnostics.simulate',
        payload: { failAlways: true },
        maxAttempts: 2,
      });
      const first = await dlq.deadLettered(jobId);

      expect((await dlq.replay(first.sequenceNumber)).status).toBe(202);
      // The queue de-duplicates by message id: a retry copy named as in the first cycle would be dropped here.
      const record = await dlq.recordWhen(jobId, (latest) => latest.cycle === 2 && isSettled(latest));
      const second = await dlq.deadLettered(jobId);

      expect(record).toMatchObject({
        status: 'DeadLettered',
        cycle: 2,
        attempt: 2,
        deadLetterReason: 'MaxRetriesExceeded',
      });
      expect(record.outcomes.map((outcome) => outcome.attempt)).toEqual([1, 2, 1, 2]);
      expect((await dlq.list()).items.filter((item) => item.jobId === jobId)).toEqual([second]);
      expect((await dlq.discard(second.sequenceNumber)).status).toBe(200);
    });

    it('when a dead-lettered message is discarded, then it leaves the sub-queue and its job records the discard', async () => {
      const jobId = await dlq.submit({ jobType: 'diagnostics.simulate', payload: { poison: true } });
      const item = await dlq.deadLettered(jobId);

      const response = await dlq.discard(item.sequenceNumber);
      const again = await dlq.discard(item.sequenceNumber);

      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({
        sequenceNumber: item.sequenceNumber,
        jobId,
        discarded: true,
      });
      expect(again.status).toBe(404);
      expect(again.headers.get('content-type')).toBe('application/problem+json');
      expect((await dlq.list()).scanned).toBe(0);
      expect(await dlq.record(jobId)).toMatchObject({
        status: 'DeadLettered',
        deadLetterActions: [{ action: 'Discarded', sequenceNumber: item.sequenceNumber, reason: 'Poisoned' }],
      });
    });

    it('when replaying by reason, then every match is replayed and completes, and the others stay', async () => {
      const retried = [
        await dlq.submit({ jobType: 'diagnostics.simulate', payload: { failTimes: 1 }, maxAttempts: 1 }),
        await dlq.submit({ jobType: 'diagnostics.simulate', payload: { failTimes: 1 }, maxAttempts: 1 }),
      ];
      const poisoned = await dlq.submit({ jobType: 'diagnostics.simulate', payload: { poison: true } });
      const items = await Promise.all([...retried, poisoned].map((jobId) => dlq.deadLettered(jobId)));

      const response = await dlq.replayMatching({ reason: 'MaxRetriesExceeded' });

      expect(response.status).toBe(200);
      const result = (await response.json()) as { replayed: number; failed: number; results: unknown[] };
      expect(result).toMatchObject({ replayed: 2, failed: 0 });
      expect(result.results).toEqual(
        expect.arrayContaining(
          retried.map((jobId) => expect.objectContaining({ jobId, status: 'replayed' })),
        ),
      );
      for (const jobId of retried) {
        expect(await dlq.recordWhen(jobId, isSettled)).toMatchObject({ status: 'Completed' });
      }
      expect((await dlq.list()).items.map((item) => item.jobId)).toEqual([poisoned]);
      expect((await dlq.discard(items[2]!.sequenceNumber)).status).toBe(200);
    });

    it('when a request names nothing valid, then it is answered 4xx problem+json, never 500', async () => {
      const unknown = await dlq.replay('999999');
      const notANumber = await dlq.replay('abc');
      const noFilter = await dlq.replayMatching({});
      const badLimit = await fetch(`${app.baseUrl}/api/deadletters?limit=0`);
      const unknownField = await dlq.replay('1', { payload: {}, extra: true });

      expect(unknown.status).toBe(404);
      expect(notANumber.status).toBe(400);
      expect(((await notANumber.json()) as { errors: unknown[] }).errors).toEqual([
        expect.objectContaining({ field: 'sequenceNumber' }),
      ]);
      expect(noFilter.status).toBe(400);
      expect(((await noFilter.json()) as { errors: unknown[] }).errors).toEqual([
        expect.objectContaining({ field: '/reason' }),
      ]);
      expect(badLimit.status).toBe(400);
      expect(((await badLimit.json()) as { errors: unknown[] }).errors).toEqual([
        expect.objectContaining({ field: 'limit' }),
      ]);
      expect(unknownField.status).toBe(400);
      expect(((await unknownField.json()) as { errors: unknown[] }).errors).toEqual([
        expect.objectContaining({ field: '/extra' }),
      ]);
      for (const response of [unknown, noFilter, badLimit, unknownField]) {
        expect(response.headers.get('content-type')).toBe('application/problem+json');
      }
    });
  });
}
