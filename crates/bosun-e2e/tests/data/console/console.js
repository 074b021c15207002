// The web console in a real browser (Debian's chromium driven by playwright-core): sign in,
// see both nodes, run `echo` on both from the Run Command form and read both outputs, then a
// read-only user sees Run disabled with the server's reason and a forced SendCommand refused.
// Argument: JSON {url, chromium, screenshots, admin: {id, secret}, reader: {id, secret}, nodes}.
// Prints "console: all checks passed" when every check held; exits non-zero otherwise.
'use strict';
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const args = JSON.parse(process.argv[2]);
const LIMIT = 60_000;

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
  console.log(`ok: ${what}`);
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(args.screenshots, `${name}.png`), fullPage: true });
}

async function signIn(page, who) {
  await page.goto(args.url);
  await page.locator('#login-id').fill(who.id);
  await page.locator('#login-secret').fill(who.secret);
  await page.locator('#login-submit').click();
  await page.locator('#bar').waitFor({ state: 'visible', timeout: LIMIT });
}

async function main() {
  fs.mkdirSync(args.screenshots, { recursive: true });
  const browser = await chromium.launch({
    executablePath: args.chromium, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(LIMIT);
    page.on('pageerror', (e) => console.error(`page error: ${e}`));

    // The login page; a wrong secret shows the server's code, message and request id.
    await page.goto(args.url);
    await page.locator('#login-form').waitFor();
    await shot(page, 'login');
    await page.locator('#login-id').fill(args.admin.id);
    await page.locator('#login-secret').fill('wrong');
    await page.locator('#login-submit').click();
    const err = page.locator('#login-error .error');
    await err.waitFor();
    const errText = await err.innerText();
    check(errText.includes('UnrecognizedClientException') && /Request id: [0-9a-f-]{36}/.test(errText), `a refused sign-in shows code and request id (${errText.replace(/\n/g, ' ')})`);

    // Fleet: both nodes, online.
    await signIn(page, args.admin);
    for (const id of args.nodes) {
      await page.locator(`#fleet-table tr[data-instance="${id}"]`).waitFor();
    }
    const rows = await page.locator('#fleet-table tbody tr').count();
    check(rows === args.nodes.length, `the fleet lists both nodes (${rows})`);
    const online = await page.locator('#fleet-table tbody td.status-Online').count();
    check(online === args.nodes.length, 'both nodes are Online');
    await shot(page, 'fleet');

    // Filters are the server's: by ping status and by tag (the fleet's nodes carry env=test).
    async function filtered(ping, tag) {
      await page.locator('#filter-ping').selectOption(ping);
      await page.locator('#filter-tag').fill(tag);
      // The table is busy from the click until the server's answer is shown.
      await page.locator('#filter-apply').click();
      await page.locator('#fleet-table[aria-busy="false"]').waitFor();
      return page.locator('#fleet-table tbody tr').count();
    }
    check(await filtered('Online', 'env=test') === args.nodes.length, 'Online nodes tagged env=test: both');
    check(await filtered('', 'env=elsewhere') === 0, 'nodes tagged env=elsewhere: none');
    check(await filtered('ConnectionLost', '') === 0, 'ConnectionLost nodes: none');
    await filtered('', '');

    // Dark mode follows the browser's preference.
    await page.emulateMedia({ colorScheme: 'dark' });
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    check(bg === 'rgb(15, 18, 22)', `the dark palette applies (${bg})`);
    await shot(page, 'fleet-dark');
    await page.emulateMedia({ colorScheme: 'light' });
    check(await page.evaluate(() => localStorage.length) === 0, 'nothing is kept in localStorage');
    const stored = await page.evaluate(() => JSON.stringify(sessionStorage));
    check(!stored.includes(args.admin.secret), 'the secret is not in sessionStorage');
    const cookies = await context.cookies();
    check(cookies.some((c) => c.name === 'bosun_console' && c.httpOnly && c.sameSite === 'Strict'), 'the session cookie is HttpOnly and SameSite=Strict');
    check(await page.evaluate(() => document.cookie) === '', 'the page cannot read the session cookie');

    // A node's page.
    await page.locator(`#fleet-table a[href="#/node/${args.nodes[0]}"]`).click();
    await page.getByRole('heading', { name: 'Compliance' }).waitFor();
    await shot(page, 'node');

    // Run Command from the form on both nodes.
    await page.locator('#nav-run').click();
    await page.locator('#param-commands').waitFor();
    check(await page.locator('#run-document').inputValue() === 'AWS-RunShellScript', 'AWS-RunShellScript is offered');
    check(await page.locator('#run-send').isEnabled(), 'the admin may run it');
    await page.locator('#param-commands').fill('echo console-$((6*7)) on $(hostname)');
    await page.locator('#run-instances').fill(args.nodes.join(' '));
    await shot(page, 'run');
    await page.locator('#run-send').click();
    await page.waitForURL(/#\/command\//);
    for (const id of args.nodes) {
      await page.locator(`#command-nodes tr[data-instance="${id}"] pre.output`, { hasText: 'console-42' }).waitFor();
    }
    await page.locator('#command-summary', { hasText: 'Success' }).waitFor();
    const summary = await page.locator('#command-summary').innerText();
    check(summary.includes('2 of 2 done'), `the summary counts both nodes (${summary})`);
    await shot(page, 'command');
    await page.locator('#nav-commands').click();
    await page.locator('#command-history tbody tr').first().waitFor();
    await shot(page, 'history');
    await page.locator('#signout').click();
    await page.locator('#login-view').waitFor({ state: 'visible' });

    // A read-only user: Run is disabled with the server's reason; forcing it is refused.
    await signIn(page, args.reader);
    await page.locator('#nav-run').click();
    await page.locator('#param-commands').waitFor();
    await page.locator('#run-reason', { hasText: 'ssm:SendCommand' }).waitFor();
    check(await page.locator('#run-send').isDisabled(), 'Run is disabled for the read-only user');
    const reason = await page.locator('#run-reason').innerText();
    check(reason.includes('not authorized'), `the reason is the server's (${reason})`);
    await shot(page, 'read-only');
    const forced = await page.evaluate(async (nodes) => {
      const res = await fetch('/console/api', {
        method: 'POST',
        headers: {
          'X-Amz-Target': 'AmazonSSM.SendCommand', 'X-Bosun-Region': sessionStorage.getItem('bosun.region'),
          'X-Bosun-Console-Csrf': sessionStorage.getItem('bosun.csrf'), 'Content-Type': 'application/x-amz-json-1.1',
        },
        body: JSON.stringify({ DocumentName: 'AWS-RunShellScript', InstanceIds: nodes, Parameters: { commands: ['echo forced'] } }),
      });
      return { status: res.status, body: await res.text(), requestId: res.headers.get('x-amzn-RequestId') };
    }, args.nodes);
    check(forced.status === 400 && forced.body.includes('AccessDeniedException') && forced.requestId, `a forced SendCommand is refused (${forced.body})`);
  } finally {
    await browser.close();
  }
  console.log('console: all checks passed');
}

main().catch((e) => { console.error(e); process.exit(1); });
