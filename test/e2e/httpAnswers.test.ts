import type { StartedAzurite } from '../../tools/azurite/startAzurite';
import { startAzurite } from '../../tools/azurite/startAzurite';
import type { LocalHost } from '../../tools/local-host/localHost';
import { startLocalHost } from '../../tools/local-host/localHost';
import { createLogger } from '../../src/jobs/support/logger';
import { embeddedTestSettings } from '../support/embeddedRuntime';
import { postJobs } from '../support/jobApi';
import { sendBytes, sendRequest } from '../support/rawHttp';

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
    expect(response.headers.get('allow')).toBe('GET, HEAD, POST, OPTIONS');
    expect(problem.detail).toBe('/api/jobs answers GET, HEAD, POST, OPTIONS, not DELETE.');
  });

  it('when a discard names a sequence number that is not one, then the answer is 400 naming sequenceNumber', async () => {
    for (const path of ['/api/deadletters/abc', '/api/deadletters/replay', '/api/deadletters/-1']) {
      const { response, problem } = await problemAt(path, { method: 'DELETE' });

      expect(response.status).toBe(400);
      expect(problem.errors).toEqual([expect.objectContaining({ field: 'sequenceNumber' })]);
    }
  });

  it('when the path is /api/jobs/. or /api/jobs/%2e, then it names a job (400 naming jobId), not the listing', async () => {
    for (const path of ['/api/jobs/.', '/api/jobs/%2e', '/api/jobs/%2E', '/api/jobs/..']) {
      const answer = await sendRequest(host.url, { method: 'GET', path });

      expect({ path, status: answer.status }).toEqual({ path, status: 400 });
      expect(answer.headers['content-type']).toBe('application/problem+json');
      expect(JSON.parse(answer.body).errors).toEqual([expect.objectContaining({ field: 'jobId' })]);
    }
  });

  it('when a GET route is asked with HEAD, then the answer is the GET one without content, Content-Length included', async () => {
    const get = await sendRequest(host.url, { method: 'GET', path: '/api/jobtypes' });
    const head = await sendRequest(host.url, { method: 'HEAD', path: '/api/jobtypes' });
    const headOfMissing = await sendRequest(host.url, {
      method: 'HEAD',
      path: '/api/jobs/00000000-0000-0000-0000-000000000000',
    });

    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers['content-type']).toBe(get.headers['content-type']);
    expect(head.headers['content-length']).toBe(String(Buffer.byteLength(get.body)));
    expect(headOfMissing.status).toBe(404);
    expect(headOfMissing.headers['content-type']).toBe('application/problem+json');
  });

  it('when a route is asked with OPTIONS, then the answer is 204 with Allow listing its methods', async () => {
    const jobs = await sendRequest(host.url, { method: 'OPTIONS', path: '/api/jobs' });
    const replay = await sendRequest(host.url, { method: 'OPTIONS', path: '/api/deadletters/replay' });
    const discard = await sendRequest(host.url, { method: 'OPTIONS', path: '/api/deadletters/42' });

    expect([jobs.status, jobs.headers['allow']]).toEqual([204, 'GET, HEAD, POST, OPTIONS']);
    expect([replay.status, replay.headers['allow']]).toEqual([204, 'POST, OPTIONS']);
    expect([discard.status, discard.headers['allow']]).toEqual([204, 'DELETE, OPTIONS']);
  });
});

describe('the local host and requests Node cannot parse', () => {
  let host: LocalHost;
  const lines: { level: string; message: string; method?: string; path?: string }[] = [];

  beforeAll(async () => {
    host = await startLocalHost({
      env: embeddedTestSettings,
      port: 0,
      overrides: { logger: createLogger('debug', { write: (line) => lines.push(JSON.parse(line)) }) },
    });
  });

  afterAll(() => host?.close());

  it.each([
    ['an unknown method', 'BREW /api/jobs HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['Content-Length: abc', 'POST /api/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n'],
    [
      'both Content-Length and Transfer-Encoding',
      'POST /api/jobs HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    ],
    ['a control character in a header', 'GET /api/health HTTP/1.1\r\nHost: x\r\nX-Bad: a\x01b\r\n\r\n'],
    ['a space in the target', 'GET /api/jo bs HTTP/1.1\r\nHost: x\r\n\r\n'],
    ['no Host header', 'GET /api/health HTTP/1.1\r\n\r\n'],
  ])('when a request has %s, then the answer is a 400 problem document', async (_, bytes) => {
    const answer = await sendBytes(host.url, bytes);

    expect(answer.status).toBe(400);
    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect(JSON.parse(answer.body)).toMatchObject({ status: 400, title: 'Bad Request' });
  });

  it('when a client goes away before its body arrives, then nothing is logged as an error, and the debug line names method and path', async () => {
    lines.length = 0;
    const { connect } = await import('node:net');
    const { hostname, port } = new URL(host.url);
    await new Promise<void>((resolve) => {
      const socket = connect(Number(port), hostname, () => {
        socket.write('POST /api/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n');
        socket.write('Content-Length: 1000\r\n\r\n{"jobType":');
        setTimeout(() => socket.destroy(), 50);
      });
      socket.on('close', () => resolve());
    });
    await new Promise((resolve) => setTimeout(resolve, 200));

    expect(lines.filter(({ level }) => level === 'error' || level === 'warn')).toEqual([]);
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'debug', method: 'POST', path: '/api/jobs' }),
    );
    expect((await fetch(`${host.url}/api/health`)).status).toBe(200);
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
