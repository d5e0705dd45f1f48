import { HttpRequest, HttpResponse } from '@azure/functions';
import type { HttpResponseInit } from '@azure/functions';
import { createDiscardDeadLetters } from '../../../src/functions/discardDeadLetters';
import type { HttpFunctionDefinition } from '../../../src/functions/functionTable';
import { createFunctionTable } from '../../../src/functions/functionTable';
import { createGetJobStats } from '../../../src/functions/getJobStats';
import { createListDeadLetters } from '../../../src/functions/listDeadLetters';
import { createListJobs } from '../../../src/functions/listJobs';
import { createReplayDeadLetters } from '../../../src/functions/replayDeadLetters';
import { createSubmitJob } from '../../../src/functions/submitJob';
import { deadLetterReasonSchema } from '../../../src/jobs/model/deadLetterReason';
import type { JobsRuntime } from '../../../src/runtime';
import { embeddedRuntime } from '../../support/embeddedRuntime';
import { invocationContext } from '../../support/invocationContext';

interface Problem {
  title: string;
  status: number;
  detail: string;
  errors: { field: string; message: string }[];
}

const base = 'http://localhost:7071';

function request(
  method: string,
  path: string,
  init: { params?: Record<string, string>; body?: string } = {},
) {
  return new HttpRequest({
    method,
    url: `${base}${path}`,
    params: init.params ?? {},
    headers: init.body === undefined ? {} : { 'content-type': 'application/json' },
    body: init.body === undefined ? undefined : { string: init.body },
  });
}

function headersOf(response: HttpResponseInit): Record<string, string> {
  const headers: Record<string, string> = {};
  new HttpResponse(response).headers.forEach((value, name) => (headers[name] = value));
  return headers;
}

function problemOf(response: HttpResponseInit): Problem {
  expect(headersOf(response)['content-type']).toBe('application/problem+json');
  return JSON.parse(String(response.body)) as Problem;
}

function fieldsOf(response: HttpResponseInit): string[] {
  return problemOf(response)
    .errors.map(({ field }) => field)
    .sort();
}

async function bodyBytes(response: HttpResponseInit): Promise<number> {
  return (await new HttpResponse(response).arrayBuffer()).byteLength;
}

describe('one grammar for every route', () => {
  let runtime: JobsRuntime;

  beforeEach(() => {
    runtime = embeddedRuntime();
  });

  afterEach(() => runtime.stop());

  function httpRoutes(): HttpFunctionDefinition[] {
    return createFunctionTable(runtime).filter(
      (definition): definition is HttpFunctionDefinition => definition.kind === 'http',
    );
  }

  async function routeArguments(definition: HttpFunctionDefinition) {
    const { record } = await runtime.submission.submit({ jobType: 'diagnostics.simulate' });
    const values: Record<string, string> = {
      jobId: record.jobId,
      asset: 'dashboard.css',
      sequenceNumber: '1',
    };
    const params = Object.fromEntries(
      [...definition.route.matchAll(/\{(\w+)(?::\w+)?\}/g)].map(([, name]) => [name!, values[name!]!]),
    );
    const path = `/api/${definition.route.replace(/\{(\w+)(?::\w+)?\}/g, (_, name: string) => values[name]!)}`;
    return { path, params };
  }

  const listJobs = (query: string) =>
    createListJobs(runtime)(request('GET', `/api/jobs${query}`), invocationContext());
  const listDeadLetters = (query: string) =>
    createListDeadLetters(runtime)(request('GET', `/api/deadletters${query}`), invocationContext());
  const jobStats = (query: string) =>
    createGetJobStats(runtime)(request('GET', `/api/jobstats${query}`), invocationContext());

  describe('query parameters', () => {
    it('when a parameter is empty, then it is the same as absent (the templates the docs write)', async () => {
      await runtime.submission.submit({ jobType: 'diagnostics.simulate' });

      const jobs = await listJobs('?status=&jobType=&limit=&continuationToken=');
      const deadLetters = await listDeadLetters('?limit=&jobType=&reason=');
      const stats = await jobStats('?hours=');

      expect([jobs.status, deadLetters.status, stats.status]).toEqual([200, 200, 200]);
      expect((jobs.jsonBody as { jobs: unknown[] }).jobs).toHaveLength(1);
    });

    it.each([
      ['/api/jobs', '?limit=0x10', 'limit'],
      ['/api/jobs', '?limit=1e1', 'limit'],
      ['/api/jobs', '?limit=%2B5', 'limit'],
      ['/api/jobs', '?limit=5.0', 'limit'],
      ['/api/jobs', '?limit=%205', 'limit'],
      ['/api/jobs', '?limit=99999999999999999999999', 'limit'],
      ['/api/deadletters', '?limit=0x10', 'limit'],
      ['/api/deadletters', '?limit=-1', 'limit'],
      ['/api/jobstats', '?hours=0x10', 'hours'],
      ['/api/jobstats', '?hours=1e1', 'hours'],
    ])(
      'when %s gets %s (not a decimal integer in range), then the answer is 400 naming %s',
      async (path, query, field) => {
        const list = {
          '/api/jobs': listJobs,
          '/api/deadletters': listDeadLetters,
          '/api/jobstats': jobStats,
        }[path];

        const response = await list!(query);

        expect(response.status).toBe(400);
        expect(problemOf(response).errors).toEqual([
          { field, message: expect.stringMatching(/^Expected a decimal integer from \d+ to \d+\.$/) },
        ]);
      },
    );

    it('when a number has leading zeros, then it is still that decimal number', async () => {
      const response = await jobStats('?hours=010');

      expect(response.status).toBe(200);
    });

    it('when the dead-letter reason is not one, then the answer is 400 naming reason and listing the reasons', async () => {
      const response = await listDeadLetters('?reason=Bogus');

      expect(response.status).toBe(400);
      expect(problemOf(response).errors).toEqual([
        { field: 'reason', message: `Expected one of: ${deadLetterReasonSchema.options.join(', ')}.` },
      ]);
    });

    it('when the job status is not one, then the answer is 400 naming status and listing the statuses', async () => {
      const response = await listJobs('?status=Bogus');

      expect(problemOf(response).errors).toEqual([
        { field: 'status', message: expect.stringContaining('Queued, Running, Retrying, Completed') },
      ]);
    });

    it('when a parameter is given twice, then the answer is 400 naming it, not "the last one wins"', async () => {
      const twice = await listJobs('?status=Queued&status=Running');
      const sameValueTwice = await listDeadLetters('?limit=5&limit=5');
      const emptyAndFull = await jobStats('?hours=&hours=3');

      expect(fieldsOf(twice)).toEqual(['status']);
      expect(problemOf(twice).errors[0]?.message).toBe('Given 2 times; give it once.');
      expect(fieldsOf(sameValueTwice)).toEqual(['limit']);
      expect(fieldsOf(emptyAndFull)).toEqual(['hours']);
    });

    it('when a parameter is unknown, then the answer is 400 naming it and the ones the route takes', async () => {
      const misspelt = await listJobs('?stauts=Queued');
      const onARouteWithout = await createSubmitJob(runtime)(
        new HttpRequest({
          method: 'POST',
          url: `${base}/api/jobs?priority=high`,
          headers: { 'content-type': 'application/json' },
          body: { string: JSON.stringify({ jobType: 'diagnostics.simulate' }) },
        }),
        invocationContext(),
      );

      expect(problemOf(misspelt).errors).toEqual([
        {
          field: 'stauts',
          message: 'Unknown parameter (this route takes: status, jobType, limit, continuationToken).',
        },
      ]);
      expect(problemOf(onARouteWithout).errors).toEqual([
        { field: 'priority', message: 'Unknown parameter: this route takes no query parameters.' },
      ]);
      expect(runtime.embeddedQueue?.messageCount().active).toBe(0);
    });

    it('when the host function key comes as ?code=, then every route takes it', async () => {
      for (const definition of httpRoutes()) {
        const { path, params } = await routeArguments(definition);
        const method = definition.methods[0]!;

        const response = await definition.handler(
          request(method, `${path}?code=secret`, { params }),
          invocationContext(),
        );

        const fields = response.status === 400 ? fieldsOf(response) : [];
        expect({ name: definition.name, fields }).not.toEqual({
          name: definition.name,
          fields: expect.arrayContaining(['code']),
        });
      }
    });

    it.each(['%zz', '%C0%AF', '%E0%A4%A', '%FF'])(
      'when a value is malformed percent-encoding (%s), then the answer is 400 naming the parameter',
      async (value) => {
        const response = await listJobs(`?jobType=${value}`);

        expect(response.status).toBe(400);
        expect(problemOf(response).errors).toEqual([
          { field: 'jobType', message: 'Malformed percent-encoding (not UTF-8).' },
        ]);
      },
    );

    it('when a job type filter has spaces around it, then the answer is 400 naming jobType', async () => {
      const jobs = await listJobs('?jobType=%20diagnostics.simulate');
      const deadLetters = await listDeadLetters('?jobType=diagnostics.simulate%20');

      expect(problemOf(jobs).errors).toEqual([
        { field: 'jobType', message: 'A job type has no leading or trailing spaces.' },
      ]);
      expect(fieldsOf(deadLetters)).toEqual(['jobType']);
    });
  });

  describe('bulk dead-letter bodies', () => {
    it.each([
      ['replay', () => createReplayDeadLetters(runtime)],
      ['discard', () => createDiscardDeadLetters(runtime)],
    ])(
      'when a bulk %s names a reason that is not one, then the answer is 400 naming /reason with the reasons',
      async (action, create) => {
        const response = await create()(
          request('POST', `/api/deadletters/${action}`, { body: JSON.stringify({ reason: 'Bogus' }) }),
          invocationContext(),
        );

        expect(response.status).toBe(400);
        expect(problemOf(response).errors).toEqual([
          { field: '/reason', message: `Expected one of: ${deadLetterReasonSchema.options.join(', ')}.` },
        ]);
      },
    );

    it('when a bulk replay names a job type with spaces around it, then the answer is 400 naming /jobType', async () => {
      const response = await createReplayDeadLetters(runtime)(
        request('POST', '/api/deadletters/replay', {
          body: JSON.stringify({ jobType: ' diagnostics.simulate' }),
        }),
        invocationContext(),
      );

      expect(fieldsOf(response)).toEqual(['/jobType']);
    });
  });

  describe('continuation tokens', () => {
    it.each(['garbage', 'eyJ4IjoxfQ', '%00', 'e30', 'eyJ2IjoxLCJjdXJzb3IiOnt9fQ', '****'])(
      'when the token is %s (not one the service issued), then the answer is 400 naming continuationToken',
      async (token) => {
        await runtime.submission.submit({ jobType: 'diagnostics.simulate' });

        const response = await listJobs(`?continuationToken=${token}`);

        expect(response.status).toBe(400);
        expect(problemOf(response)).toMatchObject({
          title: 'Invalid query',
          errors: [{ field: 'continuationToken' }],
        });
      },
    );

    it('when a token the service issued is cut short or changed, then it is refused too', async () => {
      for (let i = 0; i < 3; i += 1) await runtime.submission.submit({ jobType: 'diagnostics.simulate' });
      const token = ((await listJobs('?limit=1')).jsonBody as { continuationToken: string })
        .continuationToken;

      const cut = await listJobs(`?continuationToken=${token.slice(0, -2)}`);
      const changed = await listJobs(
        `?continuationToken=${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`,
      );
      const issued = await listJobs(`?limit=1&continuationToken=${token}`);

      expect([cut.status, changed.status, issued.status]).toEqual([400, 400, 200]);
    });
  });

  describe('job submission', () => {
    const submit = (body: unknown) =>
      createSubmitJob(runtime)(
        request('POST', '/api/jobs', { body: JSON.stringify(body) }),
        invocationContext(),
      );

    it.each([' diagnostics.simulate', 'diagnostics.simulate ', '\tdiagnostics.simulate'])(
      'when the job type is %j (spaces around it), then the answer is 400 naming /jobType and nothing runs',
      async (jobType) => {
        const response = await submit({ jobType, payload: {} });

        expect(problemOf(response).errors).toEqual([
          { field: '/jobType', message: 'A job type has no leading or trailing spaces.' },
        ]);
        expect(runtime.embeddedQueue?.messageCount().active).toBe(0);
      },
    );

    it('when the payload is absent or null, then the job is accepted with the payload {} (docs/api.md)', async () => {
      const absent = await submit({ jobType: 'diagnostics.simulate' });
      const nulled = await submit({ jobType: 'diagnostics.simulate', payload: null });

      expect([absent.status, nulled.status]).toEqual([202, 202]);
      const { jobId } = absent.jsonBody as { jobId: string };
      expect(JSON.parse((await runtime.store.get(jobId))?.body ?? '{}')).toMatchObject({ payload: {} });
    });
  });

  describe('HEAD and OPTIONS', () => {
    it('when a GET route is asked with HEAD, then the answer has the GET status and headers, its length, and no content', async () => {
      const routes = httpRoutes().filter(({ methods }) => methods.includes('GET'));
      expect(routes.map(({ name }) => name)).toEqual([
        'listJobs',
        'getJob',
        'listJobTypes',
        'health',
        'listDeadLetters',
        'getJobStats',
        'dashboard',
        'dashboardAsset',
      ]);

      for (const definition of routes) {
        const { path, params } = await routeArguments(definition);

        const get = await definition.handler(request('GET', path, { params }), invocationContext());
        const head = (await definition.handler(
          request('HEAD', path, { params }),
          invocationContext(),
        )) as HttpResponseInit;

        expect({ route: definition.route, status: head.status }).toEqual({
          route: definition.route,
          status: get.status,
        });
        expect(head.body).toBeUndefined();
        expect(head.jsonBody).toBeUndefined();
        const { 'content-length': length, ...headers } = headersOf(head);
        expect(headers).toEqual(headersOf(get as HttpResponseInit));
        expect(Number(length)).toBe(await bodyBytes(get as HttpResponseInit));
      }
    });

    it('when any route is asked with OPTIONS, then the answer is 204 with Allow listing its methods', async () => {
      const allows: Record<string, string | undefined> = {};

      for (const definition of httpRoutes()) {
        const { path, params } = await routeArguments(definition);
        const response = (await definition.handler(
          request('OPTIONS', path, { params }),
          invocationContext(),
        )) as HttpResponseInit;

        expect(response.status).toBe(204);
        allows[definition.name] = headersOf(response)['allow'];
      }

      expect(allows).toEqual({
        submitJob: 'GET, HEAD, POST, OPTIONS',
        listJobs: 'GET, HEAD, POST, OPTIONS',
        getJob: 'GET, HEAD, OPTIONS',
        cancelJob: 'POST, OPTIONS',
        listJobTypes: 'GET, HEAD, OPTIONS',
        health: 'GET, HEAD, OPTIONS',
        listDeadLetters: 'GET, HEAD, OPTIONS',
        replayDeadLetters: 'POST, OPTIONS',
        replayDeadLetter: 'POST, OPTIONS',
        discardDeadLetter: 'DELETE, OPTIONS',
        discardDeadLetters: 'POST, OPTIONS',
        getJobStats: 'GET, HEAD, OPTIONS',
        dashboard: 'GET, HEAD, OPTIONS',
        dashboardAsset: 'GET, HEAD, OPTIONS',
      });
    });

    it("when OPTIONS for deadletters/replay reaches the discard function (the host tries routes in its own order), then its Allow is still the path's", async () => {
      const discard = httpRoutes().find(({ name }) => name === 'discardDeadLetter')!;

      const response = (await discard.handler(
        request('OPTIONS', '/api/deadletters/replay', { params: { sequenceNumber: 'replay' } }),
        invocationContext(),
      )) as HttpResponseInit;

      expect(headersOf(response)['allow']).toBe('POST, OPTIONS');
    });
  });
});
