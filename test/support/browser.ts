/** Headless Debian Chromium through playwright-core, with the flags this machine needs. */
import { existsSync } from 'node:fs';
import { after, before } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { startCallbackServer, type CallbackServer } from './callback-server.js';
import { skipWhen } from './skips.js';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Options for a browser suite: skipped, with a message, when Chromium is not installed. */
// skips (test/support/skips.ts): the reason reads `browser tests — …` in the run's summary.
export const browserSuite = skipWhen('browser tests', existsSync(CHROMIUM_PATH) ? undefined : `Chromium not found at ${CHROMIUM_PATH} (set CHROMIUM_PATH)`);

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export interface BrowserFixture {
  browser: Browser;
  /** The app's loopback redirect URI, which records the callbacks the browser lands on. */
  callbacks: CallbackServer;
}

/**
 * Launches Chromium and a callback server before the suite's tests and closes them after. Call it
 * first inside `describe`, so the suite's own `before` hooks can use it.
 */
export function useBrowser(): BrowserFixture {
  const fixture = {} as BrowserFixture;
  before(async () => {
    fixture.browser = await launchBrowser();
    fixture.callbacks = await startCallbackServer();
  });
  after(async () => {
    await fixture.browser?.close();
    await fixture.callbacks?.close();
  });
  return fixture;
}
