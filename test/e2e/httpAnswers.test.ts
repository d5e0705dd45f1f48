import type { StartedAzurite } from '../../tools/azurite/startAzurite';
import { startAzurite } from '../../tools/azurite/startAzurite';
import type { LocalHost } from '../../tools/local-host/localHost';
import { startLocalHost } from '../../tools/local-host/localHost';
import { createLogger } from '../../src/jobs/support/logger';
import { embeddedTestSettings } from '../support/embeddedRuntime';
import { postJobs } from '../support/jobApi';

interface Problem {
  title: string;
  status: number;
  detail: string;
  errors?: { field: string; message: string }[];
}

// Bad requests are answered before any transport is involved: checked once, not per transport and settlement mode,
// on the table store, whose keys cannot hold every character (an id like `a/b` used to reach it and come back 503).
describe('HTTP answers to bad requests', () => {
  let azurite: StartedAzurite;
  let host: LocalHost;

  beforeAll(async () => {
    azurite = await startAzurite();
    host = await startLocalHost({
      env: { ...embeddedTestSettings, Jobs__Store: 'table', JobsStorage: azurite.connectionString },
      port: 0,
    });
  });

  afterAll(async () => {
    await host?.close();
    await azurite?.close();
  });

  async function problemAt(
    path: string,
    init: RequestInit = {},
  ): Promise<{ response: Response; problem: Problem }> {
    const response = await fetch(`${host.url}${path}`, init);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    return { response, problem: (await response.json()) as Problem };
  }

  it('when a job names an unknown type or an invalid payload, then the answer is 400 naming the field', async () => {
    const unknown = await postJobs(host.url, { jobType: 'no.such.type', payload: {} });
    const invalid = await postJobs(host.url, { jobType: 'diagnostics.simulate', payload: { failTimes: -1 } });

    expect(unknown.status).toBe(400);
    expect(unknown.headers.get('content-type')).toBe('application/problem+json');
    expect(((await unknown.json()) as { errors: unknown[] }).errors).toEqual([
      expect.objectContaining({ field: '/jobType' }),
    ]);
    expect(((await invalid.json()) as { errors: unknown[] }).errors).toEqual([
      expect.objectContaining({ field: '/payload/failTimes' }),
    ]);
  });

  it('when the body is not JSON or too large, then the answer is 415 or 413', async () => {
    const notJson = await fetch(`${host.url}/api/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'hello',
    });
    const tooLarge = await postJobs(host.url, {
      jobType: 'diagnostics.simulate',
      payload: { note: 'x'.repeat(400_000) },
    });

    expect(notJson.status).toBe(415);
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.headers.get('content-type')).toBe('application/problem+json');
  });

  it('when a job id is unknown, then the answer is 404 problem+json', async () => {
    const response = await fetch(`${host.url}/api/jobs/00000000-0000-0000-0000-000000000000`);

    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
  });

  it('when a job id is not a GUID, then the answer is 400 naming jobId, not 503', async () => {
    for (const path of ['/api/jobs/a%2Fb', '/api/jobs/not-a-job', `/api/jobs/${'x'.repeat(2000)}`]) {
      const { response, problem } = await problemAt(path);

      expect(response.status).toBe(400);
      expect(problem.errors).toEqual([expect.objectContaining({ field: 'jobId' })]);
    }
  });

  it('when the path has malformed percent-encoding, then the answer is 400 saying so, not 500', async () => {
    const { response, problem } = await problemAt('/api/jobs/%E0%A4%A');

    expect(response.status).toBe(400);
    expect(problem.detail).toMatch(/malformed percent-encoding/);
  });

  it('when a sequence number is not one, then replay answers 400 naming sequenceNumber', async () => {
    const { response, problem } = await problemAt('/api/deadletters/abc/replay', { method: 'POST' });

    expect(response.status).toBe(400);
    expect(problem.errors).toEqual([expect.objectContaining({ field: 'sequenceNumber' })]);
  });

  it('when no function has the route, then the answer is 404 listing the routes that exist', async () => {
    const { response, problem } = await problemAt('/api/job');

    expect(response.status).toBe(404);
    expect(problem.detail).toContain('No function answers /api/job.');
    expect(problem.detail).toContain('POST /api/jobs');
    expect(problem.detail).toContain('GET /api/jobs/{jobId}');
  });

  it('when the route exists but not for the method, then the answer is 405 with Allow', async () => {
    const { response, problem } = await problemAt('/api/jobs', { method: 'DELETE' });

    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST, GET');
    expect(problem.detail).toBe('/api/jobs answers POST, GET, not DELETE.');
  });
});

describe('the local host access log', () => {
  it('when requests are served, then each gets one line: method, path, status and time', async () => {
    const lines: string[] = [];
    const host = await startLocalHost({
      env: embeddedTestSettings,
      port: 0,
      overrides: { logger: createLogger('info', { write: (line) => lines.push(line) }) },
    });
    try {
      await fetch(`${host.url}/api/health?code=key`);
      await fetch(`${host.url}/api/nothing`, { method: 'POST' });

      const access = lines
        .map((line) => JSON.parse(line).message)
        .filter((message) => /^[A-Z]+ \//.test(message));
      expect(access).toEqual([
        expect.stringMatching(/^GET \/api\/health 200 \d+ms$/),
        expect.stringMatching(/^POST \/api\/nothing 404 \d+ms$/),
      ]);
    } finally {
      await host.close();
    }
  });
});
