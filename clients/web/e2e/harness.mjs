// End-to-end harness: a real caravan serving the built app (dist/app), and Debian's chromium
// driven by playwright-core. Each person is a browser context of their own (own storage,
// own service worker, own network switch).

import { mkdirSync } from 'node:fs'
import { join, dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, devices } from 'playwright-core'
import { startCaravan as startServer } from '../test/caravan.mjs'

const here = dirname(fileURLToPath(import.meta.url))
export const WEB = resolve(here, '..')
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium'
/** Screenshots of the main screens go here (test artifacts). */
export const SCREENS = process.env.SCREENSHOT_DIR ?? resolve(here, '../../../test-artifacts/pwa')

/** Starts caravan (with its in-process assistant) serving the built app; `args` are more
 * flags for `caravan serve`. */
export function startCaravan (args = []) {
  return startServer(['--web-root', join(WEB, 'dist/app'), ...args])
}

/** Launches headless chromium. */
export async function launchBrowser () {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync']
  })
}

/** A person on a device: a fresh browser context (phone-sized unless `laptop`) with one page. */
export async function person (browser, baseURL, { laptop = false } = {}) {
  const context = await browser.newContext(laptop
    ? { baseURL, viewport: { width: 1280, height: 800 } }
    : { ...devices['Pixel 7'], baseURL })
  const page = await context.newPage()
  page.on('pageerror', (e) => console.error('page error:', e.message))
  return { context, page }
}

/** Writes a screenshot of `page` as `name`.png in the artifacts folder. */
export async function screenshot (page, name) {
  mkdirSync(SCREENS, { recursive: true })
  await page.screenshot({ path: join(SCREENS, `${name}.png`), fullPage: true })
}

/** Waits until the page is controlled by the app's service worker (the shell is cached). */
export async function serviceWorkerReady (page) {
  await page.evaluate(async () => { await navigator.serviceWorker.ready })
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 15_000 })
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
