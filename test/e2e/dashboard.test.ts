import type { Browser, Locator, Page } from 'playwright-core';
import type { DeadLetterListing } from '../../src/jobs/operators/deadLetterService';
import type { JobStatsReport } from '../../src/jobs/model/jobStats';
import type { JobRecord } from '../../src/jobs/model/jobRecord';
import { isSettled } from '../support/jobApi';
import { jobRecordAt } from '../support/jobFixtures';
import { waitFor } from '../support/waitFor';
import { deadLetterClient } from './deadLetterApiSuite';
import type { DashboardApp } from './dashboardBrowser';
import {
  contrastRatio,
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

/** The attempts of the last hour the API counts, by how they ended. */
function attemptTotals(stats: JobStatsReport): { completed: number; failed: number; cancelled: number } {
  const sum = (key: 'completed' | 'failed' | 'cancelled') =>
    stats.perMinute.reduce((total, minute) => total + (minute[key] ?? Number.NaN), 0);
  return { completed: sum('completed'), failed: sum('failed'), cancelled: sum('cancelled') };
}

/** The fragment of the page's address, as the browser has it now. */
function fragmentOf(page: Page): string {
  return new URL(page.url()).hash;
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

    it('when a running job is cancelled, then the chart counts its attempt as cancelled, in a colour of its own, not as failed', async () => {
      const before = attemptTotals(await stats());
      const jobId = await dlq.submit({ jobType: 'diagnostics.simulate', payload: { durationMs: 15_000 } });
      await dlq.recordWhen(jobId, (record) => record.status === 'Running');
      const cancel = await fetch(`${app.baseUrl}/api/jobs/${jobId}/cancel`, { method: 'POST' });
      const record = await settled(jobId);
      const after = await waitFor(
        async () => {
          const totals = attemptTotals(await stats());
          return totals.cancelled > before.cancelled ? totals : undefined;
        },
        { description: 'the cancelled attempt in /api/jobstats' },
      );

      const { page, errors, close } = await openDashboard(browser, app.baseUrl);
      try {
        const note = `${after.completed} completed, ${after.failed} failed, ${after.cancelled} cancelled`;
        await page.locator('#chart-note', { hasText: note }).waitFor();
        const bars = await page
          .locator('#chart rect')
          .evaluateAll((rects) =>
            rects
              .filter((rect) => Number(rect.getAttribute('height')) > 0)
              .map((rect) => rect.getAttribute('class')),
          );
        await page.goto(`${app.baseUrl}/api/dashboard?interval=1#/jobs/${jobId}`);
        await page.locator('#detail-attempts li.status-Cancelled').waitFor();
        await screenshot(page, `${shots}-cancelled`);

        expect(cancel.status).toBe(202);
        expect(record).toMatchObject({ status: 'Cancelled', lastOutcome: { status: 'Failed' } });
        expect(after).toEqual({ ...before, cancelled: before.cancelled + 1 });
        expect(bars).toContain('cancelled');
        expect(await textOf(page, '#detail-attempts li.status-Cancelled strong')).toBe(
          'Attempt 1: Cancelled (recorded Failed)',
        );
        expect(await page.locator('#detail-attempts li.status-Failed').count()).toBe(0);
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
    });

    it("when jobs wait and dead-letter, then the page shows the queue's depth as the broker counts it", async () => {
      const poisoned = await dlq.submit({ jobType: 'diagnostics.simulate', payload: { poison: true } });
      const item = await dlq.deadLettered(poisoned);

      const { page, errors, close } = await openDashboard(browser, app.baseUrl);
      try {
        const line = page.locator('#queue-depth[data-state="read"]');
        // The page refreshes every second: it agrees with a reading of the broker taken around the same time.
        const agreed = await waitFor(
          async () => {
            const before = await app.brokerCounts();
            const shown = {
              active: Number(await line.getAttribute('data-active')),
              scheduled: Number(await line.getAttribute('data-scheduled')),
              deadLettered: Number(await line.getAttribute('data-dead-lettered')),
            };
            const after = await app.brokerCounts();
            return JSON.stringify(before) === JSON.stringify(after) &&
              JSON.stringify(shown) === JSON.stringify(after)
              ? after
              : undefined;
          },
          {
            timeoutMs: 20_000,
            intervalMs: 250,
            description: 'the page and the broker to agree on the depth',
          },
        );

        expect(agreed.deadLettered).toBeGreaterThanOrEqual(1);
        expect(await textOf(page, '#queue-depth')).toBe(
          `Queue sdap-jobs now, as the broker counts it: ${agreed.active} active (waiting or running), ` +
            `${agreed.scheduled} scheduled (retries in their backoff), ${agreed.deadLettered} dead-lettered.`,
        );
        expect(errors).toEqual([]);
      } finally {
        await close();
      }
      // Left as it was found.
      await dlq.discard(item.sequenceNumber);
    });

    it('when a dead-lettered message is discarded, then the DeadLettered card says how many were, and the page says what each number counts', async () => {
      const before = await stats();
      const [kept, dropped] = (await Promise.all([
        dlq.submit({ jobType: 'diagnostics.simulate', payload: { poison: true } }),
        dlq.submit({ jobType: 'diagnostics.simulate', payload: { poison: true } }),
      ])) as [string, string];
      const [keptItem, droppedItem] = await Promise.all([dlq.deadLettered(kept), dlq.deadLettered(dropped)]);
      const discard = await dlq.discard(droppedItem.sequenceNumber);
      const after = await waitFor(
        async () => {
          const report = await stats();
          return report.deadLetteredDiscarded === (before.deadLetteredDiscarded ?? Number.NaN) + 1
            ? report
            : undefined;
        },
        { description: 'the discarded job in /api/jobstats' },
      );
      const listing = await dlq.list();

      const { page, close } = await openDashboard(
        browser,
        app.baseUrl,
        undefined,
        '#/jobs?status=DeadLettered',
      );
      try {
        const card = page.locator('#status-counts .card[data-status="DeadLettered"]');
        await card.locator('.sub', { hasText: `${after.deadLetteredDiscarded} discarded` }).waitFor();
        await page.locator(`#job-table tr[data-job-id="${dropped}"]`).waitFor();
        await page.locator(`#dlq-items tr[data-sequence-number="${keptItem.sequenceNumber}"]`).waitFor();
        await screenshot(page, `${shots}-discarded`);

        expect(discard.status).toBe(200);
        expect(await card.locator('.count').textContent()).toBe(String(after.byStatus.DeadLettered));
        expect(await card.getAttribute('aria-label')).toBe(
          `DeadLettered: ${after.byStatus.DeadLettered} job(s), ${after.deadLetteredDiscarded} of them discarded. Show them.`,
        );
        expect(await textOf(page, '#counts-note')).toContain(
          `A job stays DeadLettered when its message is discarded: ${after.deadLetteredDiscarded} of the ` +
            `${after.byStatus.DeadLettered} DeadLettered were discarded.`,
        );
        expect(await textOf(page, '#dlq-note')).toMatch(
          new RegExp(
            `^${listing.scanned} message\\(s\\) in the dead-letter queue now, whenever they were dead-lettered\\. A discarded message leaves it; its job stays DeadLettered\\.$`,
          ),
        );
        expect(await textOf(page, `#job-table tr[data-job-id="${dropped}"] td:nth-child(3)`)).toBe(
          'DeadLettered discarded',
        );
        expect(await textOf(page, `#job-table tr[data-job-id="${kept}"] td:nth-child(3)`)).toBe(
          'DeadLettered',
        );
      } finally {
        await close();
      }
      // Left as it was found: an empty dead-letter queue.
      await dlq.discard(keptItem.sequenceNumber);
    });
  });
}

describeDashboard('embedded in-memory queue', embeddedDashboardApp, 'embedded');
describeDashboard('Service Bus emulator, table store on Azurite', serviceBusDashboardApp, 'servicebus');

describe('operator dashboard in a browser: addresses, the job panel, status colours', () => {
  let app: DashboardApp;
  let dlq: ReturnType<typeof deadLetterClient>;

  beforeAll(async () => {
    app = await embeddedDashboardApp();
    dlq = deadLetterClient(app.baseUrl);
  });

  afterAll(() => app?.close());

  const settled = (jobId: string) => dlq.recordWhen(jobId, isSettled);
  const focusedId = (page: Page) => page.evaluate<string | null>(`document.activeElement?.id ?? null`);
  const focusedKey = (page: Page) =>
    page.evaluate<string | null>(`document.activeElement?.getAttribute('data-focus') ?? null`);

  it('when an operator filters, opens a job and goes back and forward, then each view has its address and the buttons move between them', async () => {
    const done = await dlq.submit({ jobType: 'diagnostics.simulate', payload: {} });
    await settled(done);

    const { page, errors, close } = await openDashboard(browser, app.baseUrl);
    try {
      await page.locator('#status-counts .card[data-status="Completed"]').click();
      await page.locator(`#job-table tr[data-job-id="${done}"]`).waitFor();
      const byStatus = fragmentOf(page);
      const jobsHeadingFocused = await focusedId(page);
      await page.locator('#filter-type').selectOption('diagnostics.simulate');
      await page.waitForURL(/jobType=/);
      const byStatusAndType = fragmentOf(page);
      await page.locator(`#job-table [data-focus="job-${done}"]`).click();
      await page.locator('#detail-fields dd', { hasText: 'Completed' }).waitFor();
      const job = fragmentOf(page);
      const panelFocused = await focusedId(page);

      await page.goBack();
      await page.locator('#detail').waitFor({ state: 'hidden' });
      const afterBack = {
        fragment: fragmentOf(page),
        status: await page.locator('#filter-status').inputValue(),
        jobType: await page.locator('#filter-type').inputValue(),
        focus: await focusedKey(page),
      };
      await page.goBack();
      await page.waitForURL((url) => url.hash === byStatus);
      const typeAfterSecondBack = await page.locator('#filter-type').inputValue();
      await page.goForward();
      await page.goForward();
      await page.locator('#detail').waitFor({ state: 'visible' });
      const afterForward = fragmentOf(page);
      await page.keyboard.press('Escape');
      await page.locator('#detail').waitFor({ state: 'hidden' });

      expect(byStatus).toBe('#/jobs?status=Completed');
      expect(jobsHeadingFocused).toBe('jobs-title');
      expect(byStatusAndType).toBe('#/jobs?status=Completed&jobType=diagnostics.simulate');
      expect(job).toBe(`#/jobs/${done}`);
      expect(panelFocused).toBe('detail-title');
      expect(afterBack).toEqual({
        fragment: byStatusAndType,
        status: 'Completed',
        jobType: 'diagnostics.simulate',
        focus: `job-${done}`,
      });
      expect(typeAfterSecondBack).toBe('');
      expect(afterForward).toBe(job);
      expect(fragmentOf(page)).toBe(byStatusAndType);
      expect(await focusedKey(page)).toBe(`job-${done}`);
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  it('when a page is opened at the address of a job, a filtered list or the dead-letter queue, then it shows that view', async () => {
    const [done, poisoned, exhausted] = (await Promise.all([
      dlq.submit({ jobType: 'diagnostics.simulate', payload: {} }),
      dlq.submit({ jobType: 'diagnostics.simulate', payload: { poison: true } }),
      dlq.submit({ jobType: 'diagnostics.simulate', payload: { failTimes: 1 }, maxAttempts: 1 }),
    ])) as [string, string, string];
    const [poisonedItem, exhaustedItem] = await Promise.all([
      dlq.deadLettered(poisoned),
      dlq.deadLettered(exhausted),
    ]);
    await settled(done);

    const jobPage = await openDashboard(browser, app.baseUrl, undefined, `#/jobs/${poisoned}`);
    const listPage = await openDashboard(
      browser,
      app.baseUrl,
      undefined,
      '#/jobs?status=DeadLettered&jobType=diagnostics.simulate',
    );
    const queuePage = await openDashboard(browser, app.baseUrl, undefined, '#/deadletters?reason=Poisoned');
    const missingPage = await openDashboard(
      browser,
      app.baseUrl,
      undefined,
      '#/jobs/00000000-0000-4000-8000-000000000000',
    );
    try {
      await jobPage.page.locator('#detail-fields dd', { hasText: 'DeadLettered' }).waitFor();
      const jobPageFocus = await focusedId(jobPage.page);
      const jobPageTitle = await textOf(jobPage.page, '#detail-title');
      await listPage.page.locator(`#job-table tr[data-job-id="${poisoned}"]`).waitFor();
      await queuePage.page
        .locator(`#dlq-items tr[data-sequence-number="${poisonedItem.sequenceNumber}"]`)
        .waitFor();
      await missingPage.page.locator('#detail-problem', { hasText: 'HTTP 404' }).waitFor();
      await screenshot(queuePage.page, 'embedded-dead-letters-narrowed');
      await jobPage.page
        .locator(
          `#detail button[aria-label="Replay message ${poisonedItem.sequenceNumber} with a corrected payload"]`,
        )
        .click();
      await jobPage.page.locator('#replay-editor').waitFor();
      const listedStatuses = await listPage.page.locator('#job-table tbody .badge').allTextContents();
      const queueRows = await queuePage.page.locator('#dlq-items tbody tr').count();
      const queueFocus = await focusedId(queuePage.page);
      const shownGroups = await queuePage.page
        .locator('#dlq-groups tr[aria-current="true"] td:first-child')
        .allTextContents();
      await queuePage.page.locator('#dlq-filter a', { hasText: 'Show all' }).click();
      await queuePage.page
        .locator(`#dlq-items tr[data-sequence-number="${exhaustedItem.sequenceNumber}"]`)
        .waitFor();

      expect(jobPageTitle).toBe(`Job ${poisoned}`);
      expect(jobPageFocus).toBe('detail-title');
      expect(await jobPage.page.locator('#detail').isHidden()).toBe(true);
      expect(fragmentOf(jobPage.page)).toBe('#/deadletters?reason=Poisoned&jobType=diagnostics.simulate');
      expect(await focusedId(jobPage.page)).toBe('replay-payload');
      expect(await listPage.page.locator('#filter-status').inputValue()).toBe('DeadLettered');
      expect(await listPage.page.locator('#filter-type').inputValue()).toBe('diagnostics.simulate');
      expect(await focusedId(listPage.page)).toBe('jobs-title');
      expect(listedStatuses.length).toBeGreaterThanOrEqual(2);
      expect(new Set(listedStatuses)).toEqual(new Set(['DeadLettered']));
      expect(queueFocus).toBe('dlq-title');
      expect(queueRows).toBe(1);
      expect(shownGroups).toEqual(['Poisoned']);
      expect(fragmentOf(queuePage.page)).toBe('#/deadletters');
      expect(await focusedId(queuePage.page)).toBe('dlq-title');
      expect(await queuePage.page.locator('#dlq-items tbody tr').count()).toBe(2);
      expect(await missingPage.page.locator('#detail-body').isHidden()).toBe(true);
      expect(await missingPage.page.locator('#banner').isHidden()).toBe(true);
      for (const opened of [jobPage, listPage, queuePage]) expect(opened.errors).toEqual([]);
      // The browser reports the 404 itself; the page adds nothing.
      expect(missingPage.errors.filter((error) => !/status of 404/.test(error))).toEqual([]);
    } finally {
      await Promise.all([jobPage, listPage, queuePage, missingPage].map((opened) => opened.close()));
    }
    await Promise.all([poisonedItem, exhaustedItem].map((item) => dlq.discard(item.sequenceNumber)));
  });

  it('when a job is opened from the top of a 50-row list, then it opens in a panel in sight, the list stays put, and Escape gives focus back', async () => {
    const response = await fetch(`${app.baseUrl}/api/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(
        Array.from({ length: 50 }, () => ({ jobType: 'diagnostics.simulate', payload: {} })),
      ),
    });
    expect(response.status).toBe(202);

    const { page, close } = await openDashboard(browser, app.baseUrl);
    try {
      await page.locator('#job-table tbody tr').nth(49).waitFor();
      const row = page.locator('#job-table tbody tr').nth(2);
      const jobId = (await row.getAttribute('data-job-id')) ?? '';
      // The operator has scrolled to the list, its heading at the top of the window.
      await page.locator('#jobs-title').evaluate((heading) => heading.scrollIntoView());
      const scrolledTo = await page.evaluate<number>('window.scrollY');
      await row.locator(`[data-focus="job-${jobId}"]`).focus();
      await page.keyboard.press('Enter');
      await page.locator('#detail-title', { hasText: jobId }).waitFor();
      const viewportHeight = await page.evaluate<number>('window.innerHeight');
      const inSight = async (locator: Locator) => {
        const box = await locator.boundingBox();
        return !!box && box.y >= 0 && box.y + box.height <= viewportHeight && box.width > 0;
      };
      const opened = {
        scrollY: await page.evaluate<number>('window.scrollY'),
        focus: await focusedId(page),
        titleInSight: await inSight(page.locator('#detail-title')),
        rowInSight: await inSight(row),
      };
      await screenshot(page, 'embedded-job-panel');
      expect(scrolledTo).toBeGreaterThan(0);
      expect(opened).toEqual({
        scrollY: scrolledTo,
        focus: 'detail-title',
        titleInSight: true,
        rowInSight: true,
      });

      await page.keyboard.press('Escape');
      await page.locator('#detail').waitFor({ state: 'hidden' });

      expect(await page.evaluate<number>('window.scrollY')).toBe(scrolledTo);
      expect(await focusedKey(page)).toBe(`job-${jobId}`);
    } finally {
      await close();
    }
  });

  it('when each status is drawn, then its colour, Cancelled included, has at least 3:1 contrast against what it is drawn on', async () => {
    const { page, close } = await openDashboard(browser, app.baseUrl);
    try {
      await page.locator('#chart rect').first().waitFor({ state: 'attached' });
      const drawn = await page.evaluate<Array<{ what: string; color: string; background: string }>>(`(() => {
        const background = (element) => {
          for (let at = element; at; at = at.parentElement) {
            const color = getComputedStyle(at).backgroundColor;
            if (color !== 'rgba(0, 0, 0, 0)' && color !== 'transparent') return color;
          }
          return 'rgb(255, 255, 255)';
        };
        const cards = [...document.querySelectorAll('#status-counts .card')].flatMap((card) => [
          { what: 'card ' + card.dataset.status, color: getComputedStyle(card).borderLeftColor, background: background(card) },
          { what: 'card ' + card.dataset.status + ' beside', color: getComputedStyle(card).borderLeftColor, background: background(card.parentElement.parentElement) },
        ]);
        const chart = document.querySelector('#chart svg');
        const bars = ['completed', 'failed', 'cancelled'].flatMap((series) => [
          { what: 'bar ' + series, color: getComputedStyle(chart.querySelector('rect.' + series)).fill, background: background(chart) },
          { what: 'key ' + series, color: getComputedStyle(document.querySelector('.key.' + series), '::before').backgroundColor, background: background(document.querySelector('.key.' + series)) },
        ]);
        return [...cards, ...bars];
      })()`);

      const ratios = drawn.map(({ what, color, background }) => ({
        what,
        ratio: Math.round(contrastRatio(color, background) * 100) / 100,
      }));

      expect(ratios.map(({ what }) => what)).toEqual(
        expect.arrayContaining(['card Cancelled', 'card Queued', 'bar cancelled', 'key cancelled']),
      );
      expect(ratios.filter(({ ratio }) => ratio < 3)).toEqual([]);
    } finally {
      await close();
    }
  });
});

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
