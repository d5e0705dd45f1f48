import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HttpResponseInit } from '@azure/functions';
import { HttpRequest } from '@azure/functions';
import { createDashboard } from '../../../src/functions/dashboard';
import { createDashboardAsset } from '../../../src/functions/dashboardAsset';
import { dashboardFiles } from '../../../src/functions/dashboardFiles';
import { createDiscardDeadLetters } from '../../../src/functions/discardDeadLetters';
import type { HttpFunctionDefinition } from '../../../src/functions/functionTable';
import { createFunctionTable } from '../../../src/functions/functionTable';
import { createGetJobStats } from '../../../src/functions/getJobStats';
import { InfrastructureError } from '../../../src/jobs/errors';
import type { JobStatsReport } from '../../../src/jobs/model/jobStats';
import type { JobsRuntime } from '../../../src/runtime';
import { parseIgnoreRules } from '../../../tools/package/funcignore';
import { embeddedRuntime } from '../../support/embeddedRuntime';
import { invocationContext } from '../../support/invocationContext';
import { jobRecordAt } from '../../support/jobFixtures';

const root = join(__dirname, '..', '..', '..');

function get(path: string, params: Record<string, string> = {}): HttpRequest {
  return new HttpRequest({ method: 'GET', url: `http://localhost:7071${path}`, params });
}

function headersOf(response: HttpResponseInit): Record<string, string> {
  return response.headers as Record<string, string>;
}

describe('dashboard HTTP functions', () => {
  let runtime: JobsRuntime;

  beforeEach(() => {
    runtime = embeddedRuntime();
  });

  afterEach(() => runtime.stop());

  it('registers the page and the counts at the job API level, the static files anonymous, bulk discard as admin', () => {
    const routes = createFunctionTable(runtime)
      .filter((definition): definition is HttpFunctionDefinition => definition.kind === 'http')
      .filter((definition) =>
        ['dashboard', 'dashboardAsset', 'getJobStats', 'discardDeadLetters'].includes(definition.name),
      )
      .map(({ name, methods, route, authLevel }) => ({ name, methods, route, authLevel }));
    const get = ['GET', 'HEAD', 'OPTIONS'];

    expect(routes).toEqual([
      {
        name: 'discardDeadLetters',
        methods: ['POST', 'OPTIONS'],
        route: 'deadletters/discard',
        authLevel: 'admin',
      },
      { name: 'getJobStats', methods: [...get], route: 'jobstats', authLevel: 'function' },
      { name: 'dashboard', methods: [...get], route: 'dashboard', authLevel: 'function' },
      { name: 'dashboardAsset', methods: [...get], route: 'dashboard/{asset}', authLevel: 'anonymous' },
    ]);
  });

  it('serves the page as HTML under a CSP that allows only its own script and style, and no inline script', async () => {
    const response = await createDashboard(runtime)(get('/api/dashboard'), invocationContext());
    const html = String(response.body);

    expect(response.status).toBe(200);
    expect(headersOf(response)).toMatchObject({
      'Content-Type': 'text/html; charset=utf-8',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'X-Frame-Options': 'DENY',
    });
    const csp = headersOf(response)['Content-Security-Policy'] ?? '';
    expect(csp.split('; ')).toEqual(
      expect.arrayContaining(["default-src 'none'", "script-src 'self'", "style-src 'self'"]),
    );
    expect(csp).not.toMatch(/unsafe/);
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
  });

  it('when the page is asked for with a trailing slash, then it redirects to the address its relative links resolve from', async () => {
    const response = await createDashboard(runtime)(get('/api/dashboard/?code=k'), invocationContext());

    expect(response.status).toBe(308);
    expect(headersOf(response)['Location']).toBe('http://localhost:7071/api/dashboard?code=k');
  });

  it("serves every file the page links to, with its media type, from the function's list", async () => {
    const html = readFileSync(join(root, 'dashboard', 'index.html'), 'utf8');
    const linked = [...html.matchAll(/(?:src|href)="dashboard\/([^"]+)"/g)].map((match) => match[1]!);
    const asset = createDashboardAsset(runtime);

    const responses = await Promise.all(
      linked.map((name) => asset(get(`/api/dashboard/${name}`, { asset: name }), invocationContext())),
    );

    expect(linked.sort()).toEqual(['dashboard.css', 'dashboard.js']);
    expect(responses.map((response) => [response.status, headersOf(response)['Content-Type']])).toEqual(
      linked.map((name) => [200, dashboardFiles[name]]),
    );
  });

  it.each(['../package.json', '..%2Fhost.json', 'index.html', 'constructor', 'missing.js'])(
    'when asked for %s, then the answer is 404: nothing outside the list is served, and the page only at its route',
    async (name) => {
      const response = await createDashboardAsset(runtime)(
        get(`/api/dashboard/${encodeURIComponent(name)}`, { asset: name }),
        invocationContext(),
      );

      expect(response.status).toBe(404);
    },
  );

  it('the script sets no markup from data: no innerHTML, outerHTML, insertAdjacentHTML, document.write or eval', () => {
    const script = readFileSync(join(root, 'dashboard', 'dashboard.js'), 'utf8');

    expect(script).not.toMatch(
      /innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function/,
    );
  });

  it.each([
    ['Core Tools', 'coreToolsDenies'],
    ['gitignore', 'gitignoreDenies'],
  ] as const)('the deployed package keeps the dashboard files (%s reading of .funcignore)', (_, reading) => {
    const rules = parseIgnoreRules(readFileSync(join(root, '.funcignore'), 'utf8'));

    expect(Object.keys(dashboardFiles).filter((name) => rules[reading](`dashboard/${name}`))).toEqual([]);
  });

  it('answers the counts: jobs by status and type, and a series of 60 minutes ending now', async () => {
    const now = new Date('2026-01-01T12:00:30Z');
    const done = jobRecordAt('2026-01-01T11:59:00Z');
    const outcome = {
      jobId: done.jobId,
      jobType: done.jobType,
      status: 'Completed' as const,
      durationMs: 1,
      errorMessage: null,
      attempt: 1,
      completedAt: '2026-01-01T11:59:10Z',
    };
    await runtime.store.create({ ...done, status: 'Completed', lastOutcome: outcome, outcomes: [outcome] });
    await runtime.store.create(jobRecordAt('2025-12-31T11:00:00Z'));

    const response = await createGetJobStats(runtime, () => now)(get('/api/jobstats'), invocationContext());
    const report = response.jsonBody as JobStatsReport;

    expect(response.status).toBe(200);
    expect(report).toMatchObject({
      generatedAt: '2026-01-01T12:00:30.000Z',
      submittedSince: '2025-12-31T12:00:30.000Z',
      byStatus: { Completed: 1 },
      byJobType: { 'diagnostics.simulate': { Completed: 1 } },
      total: 1,
      deadLetteredDiscarded: 0,
      truncated: false,
      perMinuteTruncated: false,
    });
    expect(report.perMinute).toHaveLength(60);
    expect(report.perMinute[0]?.minute).toBe('2026-01-01T11:01Z');
    expect(report.perMinute.at(-2)).toEqual({
      minute: '2026-01-01T11:59Z',
      completed: 1,
      failed: 0,
      cancelled: 0,
    });
    expect(report.perMinute.at(-1)).toEqual({
      minute: '2026-01-01T12:00Z',
      completed: 0,
      failed: 0,
      cancelled: 0,
    });
  });

  it("answers the queue's depth beside the counts: active, scheduled and dead-lettered messages now", async () => {
    await runtime.submission.submit({ jobType: 'diagnostics.simulate', payload: {} });
    await runtime.submission.submit({ jobType: 'diagnostics.simulate', payload: {} });

    const response = await createGetJobStats(runtime)(get('/api/jobstats'), invocationContext());

    expect(response.jsonBody).toMatchObject({
      queue: { name: runtime.queue.queueName, active: 2, scheduled: 0, deadLettered: 0 },
    });
  });

  it('when the broker does not say how deep the queue is, then the counts still come, with the reason it did not', async () => {
    const unanswered = embeddedRuntime(
      {},
      {
        queueDepth: {
          depth: () =>
            Promise.reject(new InfrastructureError('QueueUnavailable', 'Service Bus did not answer.')),
        },
      },
    );
    try {
      const response = await createGetJobStats(unanswered)(get('/api/jobstats'), invocationContext());

      expect(response.status).toBe(200);
      expect(response.jsonBody).toMatchObject({
        total: 0,
        queue: { name: unanswered.queue.queueName, unavailable: 'Service Bus did not answer.' },
      });
    } finally {
      await unanswered.stop();
    }
  });

  it('when the window is out of range, then the answer is 400 naming it', async () => {
    const response = await createGetJobStats(runtime)(get('/api/jobstats?hours=0'), invocationContext());

    expect(response.status).toBe(400);
    expect(JSON.parse(String(response.body)).errors).toEqual([expect.objectContaining({ field: 'hours' })]);
  });

  it('when a bulk discard names no filter, then it is refused 400 and nothing is discarded', async () => {
    const request = new HttpRequest({
      method: 'POST',
      url: 'http://localhost:7071/api/deadletters/discard',
      headers: { 'content-type': 'application/json' },
      body: { string: '{}' },
    });

    const response = await createDiscardDeadLetters(runtime)(request, invocationContext());

    expect(response.status).toBe(400);
    expect(JSON.parse(String(response.body)).errors).toEqual([expect.objectContaining({ field: '/reason' })]);
  });
});
