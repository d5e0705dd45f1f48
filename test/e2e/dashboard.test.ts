import type { Browser, Page } from 'playwright-core';
import type { DeadLetterListing } from '../../src/jobs/operators/deadLetterService';
import type { JobStatsReport } from '../../src/jobs/model/jobStats';
import type { JobRecord } from '../../src/jobs/model/jobRecord';
import { isSettled } from '../support/jobApi';
import { jobRecordAt } from '../support/jobFixtures';
import { waitFor } from '../support/waitFor';
import { deadLetterClient } from './deadLetterApiSuite';
import type { DashboardApp } from './dashboardBrowser';
import {
  embeddedDashboardApp,
  launchChromium,
  openDashboard,
  screenshot,
  serviceBusDashboardApp,
  tabTo,
} from './dashboardBrowser';

let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
});

afterAll(() => browser?.close());

/** The text of the first element `selector` finds, once there is one. */
async function textOf(page: Page, selector: string): Promise<string> {
  return (await page.locator(selector).first().textContent()) ?? '';
}

/** What the page shows for the counts: the status cards, and the job-type table's cells. */
async function shownCounts(page: Page): Promise<{ byStatus: Record<string, number>; byType: string[][] }> {
  const byStatus: Record<string, number> = {};
  for (const card of await page.locator('#status-counts .card').all()) {
    const status = (await card.getAttribute('data-status')) ?? '';
    byStatus[status] = Number(await card.locator('.count').textContent());
  }
  const byType: string[][] = [];
  for (const row of await page.locator('#type-counts tbody tr[data-job-type]').all())
    byType.push((await row.locator('th, td').allTextContents()).map((text) => text.trim()));
  return { byStatus, byType };
}

/** The same counts as the API gives them, in the page's shape. */
function expectedCounts(stats: JobStatsReport): { byStatus: Record<string, number>; byType: string[][] } {
  const statuses = ['Queued', 'Running', 'Retrying', 'Completed', 'DeadLettered', 'Cancelled'] as const;
  return {
    byStatus: Object.fromEntries(statuses.map((status) => [status, stats.byStatus[status] ?? 0])),
    byType: Object.keys(stats.byJobType)
      .sort()
      .map((type) => {
        const counts = stats.byJobType[type] ?? {};
        const cells = statuses.map((status) => String(counts[status] ?? 0));
        return [type, ...cells, String(Object.values(counts).reduce((sum, count) => sum + (count ?? 0), 0))];
      }),
  };
}

function describeDashboard(transport: string, startApp: () => Promise<DashboardApp>, shots: string): void {
  describe(`operator dashboard in a browser (${transport})`, () => {
    let app: DashboardApp;
    let dlq: ReturnType<typeof deadLetterClient>;

    beforeAll(async () => {
      app = await startApp();
      dlq = deadLetterClient(app.baseUrl);
    });

    afterAll(() => app?.close());

    const settled = (jobId: string) => dlq.recordWhen(jobId, isSettled);

    const stats = async (): Promise<JobStatsReport> => {
      const response = await fetch(`${app.baseUrl}/api/jobstats`);
      expect(response.status).toBe(200);
      return (await response.json()) as JobStatsReport;
    };

    it('when opened, then it loads with no console errors, under a CSP without inline script, showing the counts the API gives', async () => {
      const done = await dlq.submit({ jobType: 'diagnostics.simulate', payload: { failTimes: 1 } });
      const poisoned = await dlq.submit({ jobType: 'diagnostics.simulate', payload: { poison: true } });
      await Promise.all([settled(done), settled(poisoned)]);
      const pageResponse = await fetch(`${app.baseUrl}/api/dashboard`);
      const html = await pageResponse.text();

      const { page, errors, close } = await openDashboard(browser, app.baseUrl);
      try {
        const expected = expectedCounts(await stats());
        const shown = await waitFor(
          async () => {
            const counts = await shownCounts(page);
            return JSON.stringify(counts) === JSON.stringify(expected) ? counts : undefined;
          },
          { description: 'the page to show the counts of /api/jobstats' },
        ).catch(async () => shownCounts(page));
        await page.locator(`#job-table tr[data-job-id="${done}"]`).waitFor();
        await page.locator('#chart-note', { hasText: /[1-9]\d* completed, [1-9]\d* failed/ }).waitFor();
        await screenshot(page, `${shots}-overview`);

        expect(pageResponse.status).toBe(200);
        expect(pageResponse.headers.get('content-security-policy')).toMatch(/script-src 'self'(;|$)/);
        expect(pageResponse.headers.get('content-security-policy')).not.toMatch(/unsafe-inline/);
        expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
        expect(html).not.toMatch(/\son[a-z]+=/i);
        expect(shown).toEqual(expected);
        expect(shown.byStatus['Completed']).toBeGreaterThanOrEqual(1);
        expect(shown.byStatus['DeadLettered']).toBeGreaterThanOrEqual(1);
        expect(await textOf(page, '#chart-note')).toMatch(/[1-9]\d* completed, [1-9]\d* failed/);
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
      // The next cases count the dead-letter queue's groups: it is left empty, as it was found.
      await dlq.discard((await dlq.deadLettered(poisoned)).sequenceNumber);
    });

    it('when a job carries markup in its type and error, then the page shows it as text and creates no element from it', async () => {
      const markupType = '<img src=x onerror="window.__injected=1">';
      const markupError =
        '<img src=x onerror="window.__injected=2"><script>window.__injected=3</script><b>bold</b>';
      const record: JobRecord = {
        ...jobRecordAt(new Date().toISOString(), { jobType: markupType }),
        status: 'DeadLettered',
        attempt: 1,
        deadLetterReason: 'Poisoned',
        deadLetterDescription: '<iframe src="javascript:window.__injected=4"></iframe>',
      };
      const outcome = {
        jobId: record.jobId,
        jobType: markupType,
        status: 'Poisoned' as const,
        durationMs: 3,
        errorMessage: markupError,
        attempt: 1,
        completedAt: new Date().toISOString(),
      };
      await app.store.create({ ...record, lastOutcome: outcome, outcomes: [outcome] });

      const { page, close } = await openDashboard(browser, app.baseUrl);
      try {
        await page.locator('#filter-id').fill(record.jobId);
        await page.locator('#filter-id').press('Enter');
        await page.locator('#detail-attempts pre.message').waitFor();
        await page.locator('#type-counts tbody th', { hasText: markupType }).waitFor();
        await screenshot(page, `${shots}-job-detail`);

        expect(await textOf(page, '#detail-attempts pre.message')).toBe(markupError);
        expect(await textOf(page, '#detail-deadletter pre.message')).toBe(record.deadLetterDescription);
        expect(await page.locator('#detail-fields dd').first().textContent()).toBe(markupType);
        expect(
          await page.evaluate<unknown>(
            `({ img: document.querySelectorAll('img').length, b: document.querySelectorAll('b').length,
                iframe: document.querySelectorAll('iframe').length,
                scripts: document.querySelectorAll('script').length, injected: window.__injected ?? null })`,
          ),
        ).toEqual({ img: 0, b: 0, iframe: 0, scripts: 1, injected: null });
        expect(await page.evaluate<boolean>(`document.activeElement?.id === 'detail-title'`)).toBe(true);
      } finally {
        await close();
      }
    });

    it('when an operator replays and discards by keyboard, one by one and by group, then the queue and the records say so', async () => {
      const submit = (payload: unknown, maxAttempts?: number) =>
        dlq.submit({ jobType: 'diagnostics.simulate', payload, ...(maxAttempts ? { maxAttempts } : {}) });
      const [retriedA, retriedB, poisonA, poisonB, poisonC] = await Promise.all([
        submit({ failTimes: 2 }, 2),
        submit({ failTimes: 2 }, 2),
        submit({ poison: true }),
        submit({ poison: true }),
        submit({ poison: true }),
      ]);
      const jobs = [retriedA, retriedB, poisonA, poisonB, poisonC] as string[];
      const items = await Promise.all(jobs.map((jobId) => dlq.deadLettered(jobId)));
      const [replayMe, , discardMe] = items;

      const { page, close } = await openDashboard(browser, app.baseUrl);
      try {
        await page
          .locator('#dlq-items tbody tr[data-sequence-number]')
          .nth(items.length - 1)
          .waitFor();
        await screenshot(page, `${shots}-dead-letters`);

        await tabTo(page, `button[aria-label="Replay message ${replayMe?.sequenceNumber}"]`);
        await page.keyboard.press('Enter');
        await page
          .locator('#action-result.ok', { hasText: `Replayed message ${replayMe?.sequenceNumber}` })
          .waitFor();
        await tabTo(page, `button[aria-label="Discard message ${discardMe?.sequenceNumber}"]`);
        await page.keyboard.press('Space');
        await page
          .locator('#action-result.ok', { hasText: `Discarded message ${discardMe?.sequenceNumber}` })
          .waitFor();
        await page.locator('button[aria-label^="Replay all 1 (MaxRetriesExceeded"]').click();
        await page.locator('#action-result.ok', { hasText: 'Replayed 1 of 1' }).waitFor();
        await page.locator('button[aria-label^="Discard all 2 (Poisoned"]').click();
        await page.locator('#action-result.ok', { hasText: 'Discarded 2 of 2' }).waitFor();
        await page.locator('#dlq-groups td.empty').waitFor();

        const listing: DeadLetterListing = await dlq.list();
        expect(listing.items.filter((item) => jobs.includes(item.jobId ?? ''))).toEqual([]);
        expect(await settled(retriedA!)).toMatchObject({
          status: 'Completed',
          deadLetterActions: [{ action: 'Replayed', reason: 'MaxRetriesExceeded' }],
        });
        expect(await settled(retriedB!)).toMatchObject({
          status: 'Completed',
          deadLetterActions: [{ action: 'Replayed' }],
        });
        for (const jobId of [poisonA, poisonB, poisonC] as string[]) {
          expect(await dlq.record(jobId)).toMatchObject({
            status: 'DeadLettered',
            deadLetterActions: [{ action: 'Discarded', reason: 'Poisoned' }],
          });
        }
      } finally {
        await close();
      }
    });

    it('when a replay carries a corrected payload, then the page shows the validation errors, and replays the valid one', async () => {
      const jobId = await dlq.submit({ jobType: 'diagnostics.simulate', payload: { poison: true } });
      const item = await dlq.deadLettered(jobId);

      const { page, close } = await openDashboard(browser, app.baseUrl);
      try {
        await page
          .locator(`button[aria-label="Replay message ${item.sequenceNumber} with a corrected payload"]`)
          .click();
        await page.locator('#replay-payload').fill('{"failTimes": -1}');
        await page.locator('#replay-submit').click();
        await page.locator('#replay-errors', { hasText: '/payload/failTimes' }).waitFor();
        await screenshot(page, `${shots}-replay-payload`);
        await page.locator('#replay-payload').fill('{"durationMs": 1}');
        await page.locator('#replay-payload').press('Tab');
        await page.keyboard.press('Enter');
        await page
          .locator('#action-result.ok', { hasText: `Replayed message ${item.sequenceNumber}` })
          .waitFor();

        expect(await page.locator('#replay-editor').isHidden()).toBe(true);
        expect(await settled(jobId)).toMatchObject({
          status: 'Completed',
          deadLetterActions: [{ action: 'Replayed', reason: 'Poisoned', payloadCorrected: true }],
        });
      } finally {
        await close();
      }
    });
  });
}

describeDashboard('embedded in-memory queue', embeddedDashboardApp, 'embedded');
describeDashboard('Service Bus emulator, table store on Azurite', serviceBusDashboardApp, 'servicebus');

describe('operator dashboard in a browser, when the app says no', () => {
  let app: DashboardApp;

  beforeAll(async () => {
    app = await embeddedDashboardApp();
  });

  afterAll(() => app?.close());

  it('when the key is not an admin key, then the page says so and offers no replay or discard', async () => {
    const { page, close } = await openDashboard(browser, app.baseUrl, (page) =>
      page.route('**/api/deadletters**', (route) =>
        route.fulfill({ status: 403, contentType: 'application/problem+json', body: '{"status":403}' }),
      ),
    );
    try {
      await page.locator('#access', { hasText: 'admin' }).waitFor();

      expect(await textOf(page, '#access')).toMatch(/Read-only.*HTTP 403.*admin \(master\) key/);
      expect(await page.locator('#dlq-content').isHidden()).toBe(true);
      expect(await page.locator('button:visible', { hasText: /Replay|Discard/ }).count()).toBe(0);
      expect(await page.locator('#banner').isHidden()).toBe(true);
    } finally {
      await close();
    }
  });

  it('when the store or queue is unavailable (503), then the page says so, and recovers on its own', async () => {
    let unavailable = true;
    const { page, close } = await openDashboard(browser, app.baseUrl, (page) =>
      page.route('**/api/jobstats**', (route) =>
        unavailable
          ? route.fulfill({
              status: 503,
              headers: { 'Retry-After': '5' },
              contentType: 'application/problem+json',
              body: '{"title":"Service unavailable","status":503}',
            })
          : route.continue(),
      ),
    );
    try {
      await page.locator('#banner.unavailable', { hasText: 'HTTP 503' }).waitFor();
      await screenshot(page, 'embedded-unavailable');

      unavailable = false;
      await page.locator('#banner').waitFor({ state: 'hidden' });

      expect(await page.evaluate<boolean>(`document.body.classList.contains('stale')`)).toBe(false);
    } finally {
      await close();
    }
  });
});
