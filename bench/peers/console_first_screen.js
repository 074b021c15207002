// The console's first screens, timed in Debian's chromium (playwright-core): sign in once, then
// five times each, navigation to drawn for the Fleet view's first page and the Overview's cards.
// Arguments: URL ACCESS_KEY_ID SECRET NODES. Prints a JSON line per view.
'use strict';
const { chromium } = require('playwright-core');

const [url, id, secret, nodes] = process.argv.slice(2);
const RUNS = 5;

async function main() {
  const browser = await chromium.launch({ executablePath: process.env.BOSUN_CHROMIUM || '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  try {
    const page = await (await browser.newContext()).newPage();
    page.setDefaultTimeout(120_000);
    await page.goto(url);
    await page.locator('#login-id').fill(id);
    await page.locator('#login-secret').fill(secret);
    await page.locator('#login-submit').click();
    await page.locator('#bar').waitFor({ state: 'visible' });
    const views = [
      ['fleet', '#/fleet', async () => page.locator('#fleet-table tbody tr').first().waitFor()],
      ['overview', '#/overview', async () => {
        for (const card of ['overview-offline', 'overview-commands', 'overview-associations', 'overview-compliance', 'overview-approvals', 'overview-deliveries']) {
          await page.locator(`#${card}[aria-busy="false"]`).waitFor();
        }
      }],
    ];
    for (const [view, hash, drawn] of views) {
      const runs = [];
      for (let i = 0; i < RUNS; i++) {
        await page.goto('about:blank');
        const start = Date.now();
        await page.goto(url + hash);
        await drawn();
        runs.push(Date.now() - start);
      }
      console.log(JSON.stringify({ view, nodes: Number(nodes), runs_ms: runs }));
    }
  } finally {
    await browser.close();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
