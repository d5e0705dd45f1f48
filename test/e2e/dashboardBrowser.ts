import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import type { JobStore } from '../../src/jobs/ports/jobStore';
import type { QueueDepth } from '../../src/jobs/ports/queueDepth';
import { startLocalHost } from '../../tools/local-host/localHost';
import { embeddedTestSettings } from '../support/embeddedRuntime';
import { queueName, startServiceBusWorld } from '../support/serviceBusApp';
import { Long } from '../../src/queue/sdkLong';

/** Debian's Chromium (`apt-get install chromium`): playwright-core drives it and never downloads a browser. */
export const chromiumPath = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/** Where the tests save their screenshots (test output, not committed). */
export const screenshotDirectory = join(__dirname, '..', '..', 'test-output', 'dashboard');

/** A running app for the dashboard's tests: its URL, and its job store, to plant records a producer could make. */
export interface DashboardApp {
  readonly baseUrl: string;
  readonly store: JobStore;
  /** The queue's messages as the broker holds them, read without the app: for the depth the page shows. */
  brokerCounts(): Promise<QueueDepth>;
  close(): Promise<void>;
}

/** Settings on top of the test defaults: a handler runs long enough for an operator to cancel it while it runs. */
export const dashboardAppSettings: Record<string, string> = { Jobs__HandlerTimeoutMs: '20000' };

export async function embeddedDashboardApp(): Promise<DashboardApp> {
  const host = await startLocalHost({ env: { ...embeddedTestSettings, ...dashboardAppSettings }, port: 0 });
  return {
    baseUrl: host.url,
    store: host.runtime.store,
    brokerCounts: async () => {
      const { active, locked, scheduled, deadLettered } = host.runtime.embeddedQueue!.messageCount();
      return { active: active + locked, scheduled, deadLettered };
    },
    close: async () => {
      await host.close();
    },
  };
}

/** The app on the Service Bus emulator (explicit settlement), its records on Azurite. */
export async function serviceBusDashboardApp(): Promise<DashboardApp> {
  const world = await startServiceBusWorld();
  const host = await world.startHost('explicit', dashboardAppSettings);
  return {
    baseUrl: host.url,
    store: host.runtime.store,
    // Peeked with the SDK, not asked of the administration API the app reads.
    brokerCounts: async () => {
      const receiver = world.client.createReceiver(queueName);
      const deadLetters = world.client.createReceiver(queueName, { subQueueType: 'deadLetter' });
      try {
        const messages = await receiver.peekMessages(1000, { fromSequenceNumber: Long.ONE });
        return {
          active: messages.filter((message) => message.state === 'active').length,
          scheduled: messages.filter((message) => message.state === 'scheduled').length,
          deadLettered: (await deadLetters.peekMessages(1000, { fromSequenceNumber: Long.ONE })).length,
        };
      } finally {
        await receiver.close();
        await deadLetters.close();
      }
    },
    close: () => world.close(),
  };
}

export function launchChromium(): Promise<Browser> {
  if (!existsSync(chromiumPath))
    throw new Error(`No Chromium at ${chromiumPath}: apt-get install chromium (or set CHROMIUM_PATH).`);
  return chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
}

export interface OpenedPage {
  readonly page: Page;
  /** Console errors and uncaught exceptions, as they came. */
  readonly errors: string[];
  close(): Promise<void>;
}

/**
 * A fresh page on the dashboard, refreshing every second, collecting what goes wrong in it; opened at `fragment`
 * (a view's address, such as `#/jobs/<jobId>`), or at the page itself.
 */
export async function openDashboard(
  browser: Browser,
  baseUrl: string,
  prepare: (page: Page) => Promise<unknown> = async () => undefined,
  fragment = '',
): Promise<OpenedPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(String(error)));
  // Discards ask first; the operator says yes.
  page.on('dialog', (dialog) => void dialog.accept());
  await prepare(page);
  await page.goto(`${baseUrl}/api/dashboard?interval=1${fragment}`);
  await page.waitForSelector('body[data-refreshed]');
  return { page, errors, close: () => context.close() };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(screenshotDirectory, { recursive: true });
  await page.screenshot({ path: join(screenshotDirectory, `${name}.png`), fullPage: true });
}

/** Presses Tab until `selector` has focus, as a keyboard user would get there; fails past `maxTabs`. */
export async function tabTo(page: Page, selector: string, maxTabs = 200): Promise<void> {
  for (let tabs = 0; tabs < maxTabs; tabs += 1) {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate<boolean>(
      `document.activeElement?.matches(${JSON.stringify(selector)}) ?? false`,
    );
    if (focused) return;
  }
  throw new Error(`${selector} was not reached in ${maxTabs} presses of Tab`);
}

/** The WCAG 2 contrast ratio of two opaque colours as CSS computes them (`rgb(r, g, b)`): 1 to 21. */
export function contrastRatio(first: string, second: string): number {
  const [lighter = 0, darker = 0] = [relativeLuminance(first), relativeLuminance(second)].sort(
    (a, b) => b - a,
  );
  return (lighter + 0.05) / (darker + 0.05);
}

function relativeLuminance(color: string): number {
  const channels = /^rgba?\((\d+), (\d+), (\d+)(?:, 1)?\)$/.exec(color)?.slice(1, 4);
  if (!channels) throw new Error(`Not an opaque rgb() colour: ${color}`);
  const [red = 0, green = 0, blue = 0] = channels.map((channel) => {
    const value = Number(channel) / 255;
    return value <= 0.04045 ? value / 12.92 : ((value + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * red + 0.7152 * green + 0.0722 * blue;
}
