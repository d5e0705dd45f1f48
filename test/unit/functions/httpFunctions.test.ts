import { HttpRequest } from '@azure/functions';
import type { HttpResponseInit } from '@azure/functions';
import { createGetJob } from '../../../src/functions/getJob';
import { createHealth } from '../../../src/functions/health';
import { createListJobTypes } from '../../../src/functions/listJobTypes';
import { createListJobs } from '../../../src/functions/listJobs';
import { createSubmitJob, maxRequestBytes } from '../../../src/functions/submitJob';
import { InfrastructureError } from '../../../src/jobs/errors';
import type { InMemoryJobQueue } from '../../../src/queue/inMemoryJobQueue';
import type { JobsRuntime } from '../../../src/runtime';
import { InMemoryJobStore } from '../../../src/store/inMemoryJobStore';
import { embeddedRuntime } from '../../support/embeddedRuntime';
import { storedRecordWhen } from '../../support/jobFixtures';
import { invocationContext } from '../../support/invocationContext';

function post(
  body: string,
  headers: Record<string, string> = { 'content-type': 'application/json' },
): HttpRequest {
  return new HttpRequest({
    method: 'POST',
    url: 'http://localhost:7071/api/jobs',
    headers,
    body: { string: body },
  });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- problem documents and views are asserted field by field
function json(response: HttpResponseInit): any {
  if (response.jsonBody !== undefined) return response.jsonBody;
  return JSON.parse(String(response.body));
}

function header(response: HttpResponseInit, name: string): string | undefined {
  const headers = (response.headers ?? {}) as Record<string, string>;
  return Object.entries(headers).find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];
}

describe('HTTP functions', () => {
  let runtime: JobsRuntime;

  beforeEach(() => {
    runtime = embeddedRuntime();
  });

  afterEach(() => runtime.stop());

  describe('submitJob', () => {
    it('answers 202 with Location and the job status URL, and records the job as Queued', async () => {
      const response = await createSubmitJob(runtime)(
        post(JSON.stringify({ jobType: 'diagnostics.simulate', payload: {} })),
        invocationContext(),
      );

      expect(response.status).toBe(202);
      const body = json(response);
      expect(body).toEqual({
        jobId: expect.any(String),
        status: 'Queued',
        statusUrl: `http://localhost:7071/api/jobs/${body.jobId}`,
      });
      expect(header(response, 'Location')).toBe(body.statusUrl);
      expect((await runtime.store.get(body.jobId))?.record).toMatchObject({ status: 'Queued' });
    });

    it('answers 200 with the same job when the Idempotency-Key header repeats', async () => {
      const submit = createSubmitJob(runtime);
      const request = () =>
        post(JSON.stringify({ jobType: 'diagnostics.simulate' }), {
          'content-type': 'application/json',
          'idempotency-key': 'abc',
        });

      const first = await submit(request(), invocationContext());
      const second = await submit(request(), invocationContext());

      expect([first.status, second.status]).toEqual([202, 200]);
      expect(json(second).jobId).toBe(json(first).jobId);
      expect(runtime.embeddedQueue?.messageCount().active).toBe(1);
    });

    it('answers 415 for a body that is not declared as JSON', async () => {
      const response = await createSubmitJob(runtime)(
        post('jobType=x', { 'content-type': 'application/x-www-form-urlencoded' }),
        invocationContext(),
      );

      expect(response.status).toBe(415);
      expect(header(response, 'Content-Type')).toBe('application/problem+json');
    });

    it('answers 400 problem+json naming each failing field', async () => {
      const body = JSON.stringify({
        jobType: 'diagnostics.simulate',
        payload: { durationMs: -1, failTimes: 'two' },
      });

      const response = await createSubmitJob(runtime)(post(body), invocationContext());

      expect(response.status).toBe(400);
      expect(header(response, 'Content-Type')).toBe('application/problem+json');
      expect(
        json(response)
          .errors.map((error: { field: string }) => error.field)
          .sort(),
      ).toEqual(['/payload/durationMs', '/payload/failTimes']);
    });

    it('answers 400 naming a payload field the job type does not know, instead of running with defaults', async () => {
      const body = JSON.stringify({ jobType: 'diagnostics.simulate', payload: { durationMS: 5 } });

      const response = await createSubmitJob(runtime)(post(body), invocationContext());

      expect(response.status).toBe(400);
      expect(json(response).errors).toEqual([{ field: '/payload/durationMS', message: 'Unknown field.' }]);
      expect(runtime.embeddedQueue?.messageCount().active).toBe(0);
    });

    it('answers 400 for an unknown job type and for malformed JSON', async () => {
      const submit = createSubmitJob(runtime);

      const unknown = await submit(post(JSON.stringify({ jobType: 'nope' })), invocationContext());
      const malformed = await submit(post('{"jobType":'), invocationContext());

      expect(json(unknown)).toMatchObject({ status: 400, errors: [{ field: '/jobType' }] });
      expect(json(malformed)).toMatchObject({ status: 400, title: 'Invalid JSON' });
    });

    it('answers 413 for a request body over the limit and for one job too large for a message', async () => {
      const submit = createSubmitJob(runtime);
      const huge = JSON.stringify({
        jobType: 'diagnostics.simulate',
        payload: { note: 'x'.repeat(maxRequestBytes) },
      });
      const large = JSON.stringify({
        jobType: 'diagnostics.simulate',
        payload: { note: 'x'.repeat(300_000) },
      });

      expect((await submit(post(huge), invocationContext())).status).toBe(413);
      expect((await submit(post(large), invocationContext())).status).toBe(413);
      expect(runtime.embeddedQueue?.messageCount().active).toBe(0);
    });

    it('answers 202 when the queue is unavailable but storage is up: the job is recorded and runs once the queue answers', async () => {
      const failing = embeddedRuntime();
      const queue = failing.embeddedQueue as InMemoryJobQueue;
      const send = queue.send.bind(queue);
      queue.send = async () => {
        throw new InfrastructureError('QueueUnavailable', 'broker down');
      };
      failing.start();

      const response = await createSubmitJob(failing)(
        post(JSON.stringify({ jobType: 'diagnostics.simulate', idempotencyKey: 'k1' })),
        invocationContext(),
      );
      const { jobId } = json(response) as { jobId: string };
      const recorded = (await failing.store.get(jobId))?.record.status;
      queue.send = send;
      const completed = await storedRecordWhen(
        failing.store,
        jobId,
        (record) => record.status === 'Completed',
      );
      await failing.stop();

      expect(response.status).toBe(202);
      expect(recorded).toBe('Queued');
      expect(completed.attempt).toBe(1);
    });

    it('answers 503 with Retry-After when storage is unavailable, recording and sending nothing', async () => {
      const store = new InMemoryJobStore();
      store.createAll = async () => {
        throw new InfrastructureError('StoreUnavailable', 'storage down');
      };
      const failing = embeddedRuntime({}, { store });

      const response = await createSubmitJob(failing)(
        post(JSON.stringify({ jobType: 'diagnostics.simulate', idempotencyKey: 'k2' })),
        invocationContext(),
      );

      expect(response.status).toBe(503);
      expect(header(response, 'Retry-After')).toBe('5');
      expect(JSON.stringify(json(response))).not.toMatch(/storage down|at /);
      expect(json(response)).not.toHaveProperty('outcome');
      expect(failing.embeddedQueue?.messageCount().active).toBe(0);
      await failing.stop();
    });

    it('answers 503 saying a repeat finds out, when the store did not answer whether the commit applied', async () => {
      const store = new InMemoryJobStore();
      store.createAll = async () => {
        throw new InfrastructureError('StoreUnavailable', 'no answer', { outcomeUnknown: true });
      };
      const failing = embeddedRuntime({}, { store });

      const response = await createSubmitJob(failing)(
        post(JSON.stringify({ jobType: 'diagnostics.simulate', idempotencyKey: 'k3' })),
        invocationContext(),
      );

      expect(response.status).toBe(503);
      expect(json(response)).toMatchObject({
        outcome: 'unknown',
        detail: expect.stringMatching(/same idempotency keys/),
      });
      await failing.stop();
    });

    it('answers 400 naming the Idempotency-Key header when it is longer than a key may be', async () => {
      const response = await createSubmitJob(runtime)(
        post(JSON.stringify({ jobType: 'diagnostics.simulate' }), {
          'content-type': 'application/json',
          'idempotency-key': 'k'.repeat(257),
        }),
        invocationContext(),
      );

      expect(response.status).toBe(400);
      expect(json(response)).toMatchObject({ errors: [{ field: 'Idempotency-Key' }] });
      expect(runtime.embeddedQueue?.messageCount().active).toBe(0);
    });

    it('answers 202 with one entry per job for a batch', async () => {
      const jobs = Array.from({ length: 3 }, () => ({ jobType: 'diagnostics.simulate' }));

      const response = await createSubmitJob(runtime)(post(JSON.stringify(jobs)), invocationContext());

      expect(response.status).toBe(202);
      expect(json(response)).toHaveLength(3);
      expect(json(response)[0]).toMatchObject({ status: 'Queued', created: true });
    });
  });

  describe('getJob', () => {
    it('returns the job record', async () => {
      const { record } = await runtime.submission.submit({ jobType: 'diagnostics.simulate' });
      const request = new HttpRequest({
        method: 'GET',
        url: `http://localhost/api/jobs/${record.jobId}`,
        params: { jobId: record.jobId },
      });

      const response = await createGetJob(runtime)(request, invocationContext());

      expect(response.status).toBe(200);
      expect(response.jsonBody).toMatchObject({
        jobId: record.jobId,
        status: 'Queued',
        jobType: 'diagnostics.simulate',
      });
    });

    it('answers 404 problem+json for an unknown job', async () => {
      const request = new HttpRequest({
        method: 'GET',
        url: 'http://localhost/api/jobs/00000000-0000-4000-8000-000000000000',
        params: { jobId: '00000000-0000-4000-8000-000000000000' },
      });

      const response = await createGetJob(runtime)(request, invocationContext());

      expect(response.status).toBe(404);
      expect(header(response, 'Content-Type')).toBe('application/problem+json');
    });
  });

  describe('listJobs', () => {
    const list = (query: string) =>
      createListJobs(runtime)(
        new HttpRequest({ method: 'GET', url: `http://localhost/api/jobs${query}` }),
        invocationContext(),
      );

    it('lists jobs newest first with a link to the next page', async () => {
      await runtime.submission.submit({ jobType: 'diagnostics.simulate', subjectId: 'older' });
      await runtime.submission.submit({ jobType: 'diagnostics.simulate', subjectId: 'newer' });

      const response = await list('?limit=1&status=Queued');

      expect(response.status).toBe(200);
      const body = json(response);
      expect(body.jobs.map((job: { subjectId: string }) => job.subjectId)).toHaveLength(1);
      expect(body.next).toContain('continuationToken=');
      const nextPage = json(await list(new URL(body.next).search));
      expect(nextPage.jobs).toHaveLength(1);
      expect(nextPage.continuationToken).toBeNull();
    });

    it('answers 400 naming an invalid query parameter', async () => {
      const response = await list('?status=Exploded&limit=1000');

      expect(response.status).toBe(400);
      expect(
        json(response)
          .errors.map((error: { field: string }) => error.field)
          .sort(),
      ).toEqual(['limit', 'status']);
    });
  });

  describe('listJobTypes', () => {
    it('lists every job type with its effective policy', async () => {
      const request = new HttpRequest({ method: 'GET', url: 'http://localhost/api/jobtypes' });

      const response = await createListJobTypes(runtime)(request, invocationContext());

      expect(response.status).toBe(200);
      const { jobTypes } = json(response);
      expect(jobTypes.map((entry: { jobType: string }) => entry.jobType)).toEqual(
        runtime.registry.jobTypes(),
      );
      expect(jobTypes.find((entry: { jobType: string }) => entry.jobType === 'diagnostics.simulate')).toEqual(
        {
          jobType: 'diagnostics.simulate',
          maxAttempts: runtime.config.defaultMaxAttempts,
          maxAttemptsIsBound: false,
          handlerTimeoutMs: runtime.config.handlerTimeoutMs,
          retry: runtime.config.retry,
        },
      );
    });
  });

  describe('health', () => {
    it('reports the transport, queue and job types', async () => {
      const response = await createHealth(runtime)(
        new HttpRequest({ method: 'GET', url: 'http://localhost/api/health' }),
        invocationContext(),
      );

      expect(runtime.registry.jobTypes()).toContain('diagnostics.simulate');
      expect(response.jsonBody).toEqual({
        status: 'ok',
        mode: 'in-memory',
        queue: 'sdap-jobs',
        settlement: 'in-memory',
        jobTypes: runtime.registry.jobTypes(),
      });
    });
  });
});
