// The web console in a real browser (Debian's chromium driven by playwright-core): sign in,
// see both nodes, run `echo` on both from the Run Command form and read both outputs, use the
// Parameter Store, Documents and Overview views; then a read-only user sees Run, Create and
// Reveal disabled with the server's reason and a forced SendCommand / PutParameter refused.
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

/** Polls `target` with `body` through the page's session until `done(answer)` holds (a
 * deadline, not a sleep: each poll is a real call). */
async function until(page, target, body, done) {
  const deadline = Date.now() + LIMIT;
  for (;;) {
    const r = await api(page, target, body);
    if (r.status === 200 && done(JSON.parse(r.body))) return;
    if (Date.now() > deadline) throw new Error(`${target} ${JSON.stringify(body)} never got there: ${r.body}`);
    await new Promise((ok) => setTimeout(ok, 250));
  }
}

/** One API call made by the page's own session (as a script in the page could). */
function api(page, target, body) {
  return page.evaluate(async ([target, body]) => {
    const res = await fetch('/console/api', {
      method: 'POST',
      headers: {
        'X-Amz-Target': target, 'X-Bosun-Region': sessionStorage.getItem('bosun.region'),
        'X-Bosun-Console-Csrf': sessionStorage.getItem('bosun.csrf'), 'Content-Type': 'application/x-amz-json-1.1',
      },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: await res.text(), requestId: res.headers.get('x-amzn-RequestId') };
  }, [target, body]);
}

async function main() {
  fs.mkdirSync(args.screenshots, { recursive: true });
  const browser = await chromium.launch({
    executablePath: args.chromium, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  let page = null;
  try {
    // A zone far from UTC (and the test machine's), so times shown in UTC would be caught.
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, timezoneId: 'Asia/Kolkata', locale: 'en-US' });
    page = await context.newPage();
    page.setDefaultTimeout(LIMIT);
    page.on('pageerror', (e) => console.error(`page error: ${e}`));
    // The page's Content-Security-Policy must not have to block anything the console itself does.
    const blocked = [];
    page.on('console', (m) => { if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) blocked.push(m.text()); });

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
    for (const title of ['Sessions', 'Inventory (packages)']) await page.getByRole('heading', { name: title }).waitFor();
    check(await page.locator('#view .error').count() === 0, 'every section of the node page loaded');
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
    // The whole stdout of a step (the API's answer holds 2,500 characters) and its download.
    const first = page.locator(`#command-nodes tr[data-instance="${args.nodes[0]}"]`);
    await first.locator('button.whole-stdout').click();
    const download = first.locator('a.download-stdout');
    await download.waitFor();
    check((await download.getAttribute('download')).endsWith('-stdout.txt'), 'the whole stdout is offered as a file');
    check((await first.locator('pre.output').innerText()).includes('console-42'), 'the whole stdout is shown');
    await shot(page, 'command');
    await page.locator('#nav-commands').click();
    await page.locator('#command-history tbody tr').first().waitFor();
    await shot(page, 'history');

    // Resource groups (Resource Groups' API through the console): a group of the nodes tagged
    // env=test made from the form holds both nodes; Run Command targets it by name.
    await page.locator('#nav-groups').click();
    await page.locator('#group-create:not([disabled])').waitFor();
    await page.locator('#group-name').fill('console-test-nodes');
    await page.locator('#group-tag').fill('env=test');
    await page.locator('#group-create').click();
    await page.locator('#groups-table tr[data-group="console-test-nodes"] a').click();
    for (const id of args.nodes) await page.locator(`#group-members tr[data-instance="${id}"]`).waitFor();
    check(await page.locator('#group-members tbody tr').count() === args.nodes.length, 'the group holds both nodes');
    await shot(page, 'group');
    await page.locator('#nav-run').click();
    await page.locator('#param-commands').waitFor();
    await page.locator('#param-commands').fill('echo by-group');
    await page.locator('#run-group').fill('console-test-nodes');
    await page.locator('#run-send').click();
    await page.waitForURL(/#\/command\//);
    for (const id of args.nodes) {
      await page.locator(`#command-nodes tr[data-instance="${id}"] pre.output`, { hasText: 'by-group' }).waitFor();
    }
    check(true, 'Run Command reaches a resource group\'s nodes');

    // A terminal on a node: what is typed reaches the shell, the output shows, a window resize
    // reaches the shell's terminal, and the shell's exit status is shown when it ends.
    await page.goto(`${args.url}#/node/${args.nodes[0]}`);
    await page.locator('#node-terminal').click();
    await page.waitForURL(/#\/terminal\//);
    await page.locator('#session-start:not([disabled])').waitFor();
    await page.locator('#session-reason').fill('console test');
    await page.locator('#session-start').click();
    await page.locator('#session-status', { hasText: 'connected' }).waitFor();
    const termRows = page.locator('#terminal .xterm-rows');
    await page.keyboard.type('echo term-$((6*7))');
    await page.keyboard.press('Enter');
    await termRows.filter({ hasText: 'term-42' }).waitFor();
    // `stty size` against the rows the terminal draws, before and after the window shrinks.
    async function sizeMatches(tag) {
      await page.keyboard.type(`echo ${tag}-$(stty size | tr ' ' x)`);
      await page.keyboard.press('Enter');
      const line = termRows.locator('div', { hasText: new RegExp(`^${tag}-\\d+x\\d+`) });
      await line.first().waitFor();
      const [r] = (await line.first().innerText()).trim().slice(tag.length + 1).split('x').map(Number);
      const drawn = await termRows.locator(':scope > div').count();
      check(r === drawn, `the shell's terminal has the ${drawn} rows drawn (${tag}: ${r})`);
      return r;
    }
    const before = await sizeMatches('size1');
    await page.setViewportSize({ width: 1000, height: 600 });
    const after = await sizeMatches('size2');
    check(after < before, `a smaller window resized the remote terminal (${before} -> ${after} rows)`);
    await page.setViewportSize({ width: 1280, height: 900 });
    await shot(page, 'terminal');
    await page.keyboard.type('exit 3');
    await page.keyboard.press('Enter');
    await page.locator('#session-status', { hasText: 'exit code 3' }).waitFor();
    check(true, 'the shell\'s exit code is shown');
    check(blocked.length === 0, `the CSP blocked nothing (${blocked.join('; ')})`);
    await page.locator('#nav-sessions').click();
    const past = page.locator('#sessions-history tbody tr', { hasText: args.nodes[0] });
    await past.first().waitFor();
    check(await past.count() >= 1, 'the session is in the history');
    // Its log replays what the terminal showed.
    await past.first().locator('button.session-log').click();
    await page.locator('#session-log-screen .xterm-rows', { hasText: 'term-42' }).waitFor();
    check(true, 'the session log shows the shell\'s output');
    await shot(page, 'sessions');

    // Parameter Store: create a parameter from the form and see it in the tree.
    await page.locator('#nav-parameters').click();
    await page.locator('#param-tree[aria-busy="false"]').waitFor();
    check(await page.locator('#param-save').isEnabled(), 'the admin may create parameters');
    await page.locator('#param-name').fill('/console/app/db-url');
    await page.locator('#param-value').fill('postgres://db.internal/app');
    await page.locator('#param-description').fill('made in the browser');
    await page.locator('#param-save').click();
    await page.waitForURL(/#\/parameter\/%2Fconsole%2Fapp%2Fdb-url$/);
    await page.locator('#param-shown-value', { hasText: 'postgres://db.internal/app' }).waitFor();
    await page.locator('#param-history-table tr[data-version="1"]').waitFor();
    // A label on version 1 shows in the history.
    await page.locator('#label-name').fill('prod');
    await page.locator('#label-apply').click();
    await page.locator('#param-history-table tr[data-version="1"] .chip', { hasText: 'prod' }).waitFor();
    const hist = JSON.parse((await api(page, 'AmazonSSM.GetParameterHistory', { Name: '/console/app/db-url' })).body);
    const flat = (t) => t.replace(/\s+/g, ' ').trim();
    const expected = flat(new Date(hist.Parameters[0].LastModifiedDate * 1000).toLocaleString('en-US', { timeZone: 'Asia/Kolkata' }));
    const shown = flat(await page.locator('#param-history-table tr[data-version="1"] td').nth(1).innerText());
    check(shown === expected, `times are in the user's zone (${shown}, expected ${expected})`);
    await shot(page, 'parameter');
    // A SecureString: hidden until "reveal", which the admin is offered.
    await page.goto(`${args.url}#/parameters`);
    await page.locator('#param-tree[aria-busy="false"]').waitFor();
    await page.locator('#param-name').fill('/console/app/password');
    await page.locator('#param-type').selectOption('SecureString');
    await page.locator('#param-value').fill('s3cret-in-browser');
    await page.locator('#param-save').click();
    await page.waitForURL(/password$/);
    await page.locator('#param-shown-value', { hasText: 'hidden' }).waitFor();
    check(!(await page.content()).includes('s3cret-in-browser'), 'a SecureString value is not on the page until revealed');
    await page.locator('#param-reveal:not([disabled])').waitFor();
    await page.locator('#param-reveal').click();
    await page.locator('#param-shown-value', { hasText: 's3cret-in-browser' }).waitFor();
    check(await page.evaluate(() => localStorage.length) === 0, 'a revealed value is not kept in localStorage');
    check(!(await page.evaluate(() => JSON.stringify(sessionStorage))).includes('s3cret'), 'nor in sessionStorage');
    // The tree under /console shows both, in their folder.
    await page.goto(`${args.url}#/parameters/${encodeURIComponent('/console')}`);
    for (const name of ['/console/app/db-url', '/console/app/password']) {
      await page.locator(`#param-tree li.folder li[data-parameter="${name}"]`).waitFor();
    }
    check(await page.locator('#param-tree a[data-folder="/console/app"]').count() === 1, 'the tree has the folder /console/app');
    await page.locator('#param-tree a[data-folder="/console/app"]').focus();
    await page.keyboard.press('ArrowDown');
    check(await page.evaluate(() => document.activeElement.textContent) === 'db-url', 'the arrow keys move through the tree');
    await page.keyboard.press('Enter');
    await page.waitForURL(/db-url$/);
    await page.goBack();
    await page.locator('#param-tree[aria-busy="false"]').waitFor();
    await shot(page, 'parameters');
    // One level only: nothing sits directly under /console.
    await page.locator('#param-recursive').uncheck();
    await page.locator('#param-tree', { hasText: 'No parameters here.' }).waitFor();
    await page.locator('#param-recursive').check();
    await page.locator('#param-tree li[data-parameter="/console/app/db-url"]').waitFor();
    // The server's error is shown inline with its request id.
    await page.locator('#param-name').fill('/console/bad name with spaces');
    await page.locator('#param-value').fill('x');
    await page.locator('#param-save').click();
    const perr = page.locator('#param-put-errors .error');
    await perr.waitFor();
    const perrText = await perr.innerText();
    check(/Request id: [0-9a-f-]{36}/.test(perrText), `a refused PutParameter shows the server's error (${perrText.replace(/\n/g, ' ')})`);

    // Documents: a broken document shows the server's validation error; a good one is created.
    await page.locator('#nav-documents').click();
    await page.locator('#doc-list[aria-busy="false"]').waitFor();
    await page.locator('#doc-owner').selectOption('Amazon');
    await page.locator('#doc-filter').click();
    await page.locator('#doc-table tr[data-document="AWS-RunShellScript"]').waitFor();
    await page.locator('#doc-create-name').fill('Console-Hello');
    await page.locator('#doc-create-content').fill("schemaVersion: '2.2'\ndescription: broken\nmainSteps:\n  - action: aws:noSuchPlugin\n    name: x\n");
    await page.locator('#doc-create-save').click();
    const derr = page.locator('#doc-create-errors .error');
    await derr.waitFor();
    const derrText = await derr.innerText();
    check(derrText.includes('InvalidDocument') && /Request id: [0-9a-f-]{36}/.test(derrText), `a broken document shows the validation error (${derrText.replace(/\n/g, ' ')})`);
    await shot(page, 'documents-error');
    await page.locator('#doc-create-content').fill("schemaVersion: '2.2'\ndescription: Says hello\nmainSteps:\n  - action: aws:runShellScript\n    name: hello\n    inputs:\n      runCommand:\n        - echo hello\n");
    await page.locator('#doc-create-save').click();
    await page.waitForURL(/#\/document\/Console-Hello$/);
    await page.locator('#doc-content', { hasText: 'echo hello' }).waitFor();
    await page.locator('#doc-versions-table tr[data-version="1"]').waitFor();
    await page.locator('#doc-view-format').selectOption('JSON');
    await page.locator('#doc-content', { hasText: '"schemaVersion"' }).waitFor();
    // A second version, made the default.
    await page.locator('#doc-edit-format').selectOption('YAML');
    await page.locator('#doc-edit-content').fill("schemaVersion: '2.2'\ndescription: Says hello twice\nmainSteps:\n  - action: aws:runShellScript\n    name: hello\n    inputs:\n      runCommand:\n        - echo hello hello\n");
    await page.locator('#doc-edit-save').click();
    await page.locator('#doc-versions-table tr[data-version="2"]').waitFor();
    await page.locator('#doc-versions-table button[data-version="2"]').click();
    await page.locator('#doc-summary', { hasText: 'default version 2 of 2' }).waitFor();
    await shot(page, 'document');

    // An Automation runbook with an approval step, made from the form in JSON, and started.
    await page.locator('#nav-documents').click();
    await page.locator('#doc-list[aria-busy="false"]').waitFor();
    await page.locator('#doc-create-name').fill('Console-Ask');
    await page.locator('#doc-create-type').selectOption('Automation');
    await page.locator('#doc-create-format').selectOption('JSON');
    await page.locator('#doc-create-content').fill(JSON.stringify({
      schemaVersion: '0.3',
      mainSteps: [{ name: 'ask', action: 'aws:approve', inputs: { Approvers: ['admin'], Message: 'go?' } }],
    }));
    await page.locator('#doc-create-save').click();
    await page.waitForURL(/#\/document\/Console-Ask$/);
    const started = await api(page, 'AmazonSSM.StartAutomationExecution', { DocumentName: 'Console-Ask' });
    check(started.status === 200, `the approval runbook starts (${started.body})`);
    const execution = JSON.parse(started.body).AutomationExecutionId;
    await until(page, 'AmazonSSM.GetAutomationExecution', { AutomationExecutionId: execution }, (out) => out.AutomationExecution?.AutomationExecutionStatus === 'Waiting');

    // Overview: the failing command and the waiting approval show up; both nodes are online.
    const sent = await api(page, 'AmazonSSM.SendCommand',
      { DocumentName: 'AWS-RunShellScript', InstanceIds: [args.nodes[0]], Parameters: { commands: ['exit 3'] } });
    const failed = JSON.parse(sent.body).Command.CommandId;
    const compliance = await api(page, 'AmazonSSM.PutComplianceItems', {
      ResourceId: args.nodes[1], ResourceType: 'ManagedInstance', ComplianceType: 'Custom:Console',
      ExecutionSummary: { ExecutionTime: Math.floor(Date.now() / 1000) },
      Items: [{ Id: 'disk', Title: 'disk encrypted', Severity: 'HIGH', Status: 'NON_COMPLIANT' }],
    });
    check(compliance.status === 200, `a non-compliant item is recorded (${compliance.body})`);
    await page.goto(`${args.url}#/command/${failed}`);
    await page.locator('#command-summary', { hasText: 'Failed' }).waitFor();
    await page.locator('#nav-overview').click();
    for (const id of ['overview-offline', 'overview-commands', 'overview-associations', 'overview-compliance', 'overview-approvals', 'overview-deliveries']) {
      await page.locator(`#${id}[aria-busy="false"]`).waitFor();
    }
    await page.locator(`#overview-commands-table tr[data-command="${failed}"]`).waitFor();
    await page.locator(`#overview-approvals-table tr[data-execution="${execution}"]`).waitFor();
    await page.locator(`#overview-compliance-table tr[data-resource="${args.nodes[1]}"][data-type="Custom:Console"]`).waitFor();
    check(await page.locator('#overview-compliance-count').innerText() === '1', 'one resource is non-compliant');
    check(await page.locator('#overview-offline-count').innerText() === '0', 'no node is offline');
    check(await page.locator('#view .error').count() === 0, 'every overview card loaded');
    await shot(page, 'overview');
    await page.emulateMedia({ colorScheme: 'dark' });
    await shot(page, 'overview-dark');
    await page.emulateMedia({ colorScheme: 'light' });

    // Automation: the waiting execution opens from the Overview, its step waits for an approval,
    // and approving it from the page (with a comment) lets the execution end in Success.
    await page.locator(`#overview-approvals-table a[href="#/execution/${execution}"]`).click();
    await page.waitForURL(/#\/execution\//);
    await page.locator('#exec-steps li[data-step="ask"] .step-status', { hasText: 'Waiting' }).waitFor();
    await page.locator('#exec-approval-message', { hasText: 'go?' }).waitFor();
    await page.locator('#exec-approve:not([disabled])').waitFor();
    await shot(page, 'automation-waiting');
    await page.locator('#exec-comment').fill('ship it');
    await page.locator('#exec-approve').click();
    await page.locator('#exec-status', { hasText: 'Success' }).waitFor();
    await page.locator('#exec-steps li[data-step="ask"] .step-status', { hasText: 'Success' }).waitFor();
    const decided = await api(page, 'AmazonSSM.GetAutomationExecution', { AutomationExecutionId: execution });
    check(decided.body.includes('ship it'), `the approval carries its comment (${decided.body.slice(0, 300)})`);
    check(!/\bnull\b|undefined/.test(await page.locator('#view').innerText()), 'the execution page shows no null or undefined');
    await shot(page, 'automation-execution');
    await page.locator('#nav-automation').click();
    await page.locator(`#auto-table tr[data-execution="${execution}"] td.status-Success`).waitFor();
    await page.locator('#auto-status').selectOption('Waiting');
    await page.locator('#auto-filter').click();
    await page.locator('#auto-table', { hasText: 'No executions.' }).waitFor();
    check(true, 'the execution list filters by status on the server');
    await shot(page, 'automation');
    // State Manager: an association made through the API runs at once on its node; its
    // execution's outcome per node links to the Run Command behind it; "Apply now" runs it again.
    const made = await api(page, 'AmazonSSM.CreateAssociation', {
      Name: 'AWS-RunShellScript', AssociationName: 'console-assoc',
      Targets: [{ Key: 'InstanceIds', Values: [args.nodes[0]] }], Parameters: { commands: ['echo assoc-ok'] },
    });
    check(made.status === 200, `an association is created (${made.body.slice(0, 200)})`);
    const assocId = JSON.parse(made.body).AssociationDescription.AssociationId;
    await until(page, 'AmazonSSM.DescribeAssociationExecutions', { AssociationId: assocId }, (out) => (out.AssociationExecutions || []).some((x) => x.Status === 'Success'));
    await page.locator('#nav-associations').click();
    await page.locator(`#assoc-table tr[data-association="${assocId}"] a`).click();
    await page.waitForURL(/#\/association\//);
    await page.locator('#assoc-definition', { hasText: 'AWS-RunShellScript' }).waitFor();
    const firstRun = page.locator('#assoc-exec-table tbody tr', { has: page.locator('td.status-Success') });
    await firstRun.first().waitFor();
    await firstRun.first().locator('button.linklike').click();
    const targetRow = page.locator(`#assoc-targets-table tr[data-resource="${args.nodes[0]}"]`);
    await targetRow.locator('td.status-Success').waitFor();
    check(await targetRow.locator('a[href^="#/command/"]').count() === 1, 'the node\'s outcome links to its Run Command');
    await page.locator('#assoc-apply:not([disabled])').click();
    await page.waitForFunction(() => document.querySelectorAll('#assoc-exec-table tbody tr[data-execution]').length >= 2, null, { timeout: LIMIT });
    check(true, 'Apply now starts another execution');
    await shot(page, 'association');
    await page.locator('#nav-associations').click();
    await page.locator('#assoc-compliance-table tr[data-type="Association"]').waitFor();
    check(true, 'the association\'s compliance is summarised');
    await shot(page, 'associations');

    // Maintenance Windows: a daily window at 03:00 UTC shows in the calendar at 08:30 in the
    // browser's zone (Asia/Kolkata); a window that runs now shows each node's outcome.
    const daily = await api(page, 'AmazonSSM.CreateMaintenanceWindow', { Name: 'console-daily', Schedule: 'cron(0 3 ? * * *)', Duration: 2, Cutoff: 0, AllowUnassociatedTargets: true });
    check(daily.status === 200, `a daily window is created (${daily.body})`);
    const soon = `at(${new Date(Date.now() + 5000).toISOString().slice(0, 19)})`;
    const mw = JSON.parse((await api(page, 'AmazonSSM.CreateMaintenanceWindow', { Name: 'console-now', Schedule: soon, Duration: 1, Cutoff: 0, AllowUnassociatedTargets: false })).body).WindowId;
    const target = JSON.parse((await api(page, 'AmazonSSM.RegisterTargetWithMaintenanceWindow', { WindowId: mw, ResourceType: 'INSTANCE', Targets: [{ Key: 'InstanceIds', Values: args.nodes }] })).body).WindowTargetId;
    const task = await api(page, 'AmazonSSM.RegisterTaskWithMaintenanceWindow', {
      WindowId: mw, TaskArn: 'AWS-RunShellScript', TaskType: 'RUN_COMMAND', Priority: 1, MaxConcurrency: '2', MaxErrors: '1',
      Targets: [{ Key: 'WindowTargetIds', Values: [target] }], TaskInvocationParameters: { RunCommand: { Parameters: { commands: ['echo mw-ok'] } } },
    });
    check(task.status === 200, `a task is registered (${task.body})`);
    await until(page, 'AmazonSSM.DescribeMaintenanceWindowExecutions', { WindowId: mw }, (out) => (out.WindowExecutions || []).some((x) => x.Status === 'SUCCESS'));
    await page.locator('#nav-windows').click();
    const dailyRuns = page.locator('#mw-calendar .run', { hasText: 'console-daily' });
    await dailyRuns.first().waitFor();
    // The calendar starts today: today's 08:30 run shows only while it is still to come.
    const dailyExpected = () => page.evaluate(() => {
      const now = new Date();
      return now.getHours() * 60 + now.getMinutes() < 8 * 60 + 30 ? 14 : 13;
    });
    const expectedBefore = await dailyExpected();
    const dailyCount = await dailyRuns.count();
    const expectedAfter = await dailyExpected();
    check(dailyCount === expectedBefore || dailyCount === expectedAfter,
      `the daily window runs on each of the days shown that are still to come (${dailyCount}, expected ${expectedBefore})`);
    const when = await dailyRuns.first().innerText();
    check(when.includes('08:30'), `its runs show in the browser's zone (${when})`);
    await shot(page, 'windows');
    await page.locator(`#mw-table tr[data-window="${mw}"] a`).click();
    await page.waitForURL(/#\/window\//);
    await page.locator('#mw-exec-table td.status-SUCCESS').first().waitFor();
    await page.locator('#mw-exec-table button.linklike').first().click();
    for (const id of args.nodes) {
      await page.locator(`#mw-execution tr[data-node="${id}"] td.status-SUCCESS`).waitFor();
    }
    check(await page.locator('#mw-execution a[href^="#/command/"]').count() === 2, 'each node\'s outcome links to its command');
    await shot(page, 'window');

    // Events: a rule made through the API is listed with its pattern; the latest events include
    // the command that failed above, and a pattern narrows them to failures.
    const rule = await api(page, 'AWSEvents.PutRule', {
      Name: 'console-failed',
      EventPattern: JSON.stringify({ source: ['aws.ssm'], 'detail-type': ['EC2 Command Status-change Notification'], detail: { status: ['Failed'] } }),
    });
    check(rule.status === 200, `a rule is created (${rule.body})`);
    await page.locator('#nav-events').click();
    await page.locator('#events-rules tr[data-rule="console-failed"]', { hasText: 'ENABLED' }).waitFor();
    await page.locator('#events-recent', { hasText: 'EC2 Command Status-change Notification' }).waitFor();
    await page.locator('#events-failed-none').waitFor();
    await page.locator('#events-invocations-none').waitFor();
    // Topics, through SNS's own query protocol: one made from the page is listed; a bad name
    // shows SNS's error.
    await page.locator('#topic-name').fill('console-ops');
    await page.locator('#topic-create').click();
    await page.locator('#topics-table tr[data-topic="console-ops"]').waitFor();
    await page.locator('#topic-name').fill('bad name!');
    await page.locator('#topic-create').click();
    const terr = page.locator('#events-topics-box .error');
    await terr.waitFor();
    check((await terr.innerText()).includes('InvalidParameter'), `a bad topic name shows SNS's error (${await terr.innerText()})`);
    await page.locator('#events-pattern').fill(JSON.stringify({ detail: { status: ['Failed'] } }));
    await page.locator('#events-apply').click();
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('#events-recent tbody tr')];
      return rows.length > 0 && rows.every((r) => r.textContent.includes('status=Failed'));
    }, null, { timeout: LIMIT });
    check(true, 'a pattern narrows the recent events to failures');
    await shot(page, 'events');

    // Audit: the admin's parameter writes are in the trail, found by action.
    await page.locator('#nav-audit').click();
    await page.locator('#audit-table tbody tr[data-seq]').first().waitFor();
    await page.locator('#audit-action').fill('ssm:PutParameter');
    await page.locator('#audit-apply').click();
    await page.waitForFunction(() => {
      const cells = [...document.querySelectorAll('#audit-table tbody tr td:nth-child(3)')];
      return cells.length > 0 && cells.every((c) => c.textContent.startsWith('ssm:PutParameter'));
    }, null, { timeout: LIMIT });
    await page.locator('#audit-table tbody tr', { hasText: 'parameter/console/app/db-url' }).first().waitFor();
    check(true, 'the trail is filtered by action and holds the admin\'s parameter writes');
    await shot(page, 'audit');

    // Another waiting execution, for the read-only user below.
    const second = JSON.parse((await api(page, 'AmazonSSM.StartAutomationExecution', { DocumentName: 'Console-Ask' })).body).AutomationExecutionId;

    // Keyboard: Tab reaches the navigation and Enter follows it.
    await page.locator('#nav-overview').focus();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.waitForURL(/#\/fleet$/);
    check(true, 'the views are reachable from the keyboard');

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

    // Nor approve an automation step.
    await page.goto(`${args.url}#/execution/${second}`);
    await page.locator('#exec-approve-reason', { hasText: 'ssm:SendAutomationSignal' }).waitFor();
    check(await page.locator('#exec-approve').isDisabled() && await page.locator('#exec-reject').isDisabled(), 'Approve and Reject are disabled for the read-only user');

    // Nor apply an association.
    await page.goto(`${args.url}#/association/${assocId}`);
    await page.locator('#assoc-apply-reason', { hasText: 'ssm:StartAssociationsOnce' }).waitFor();
    check(await page.locator('#assoc-apply').isDisabled(), 'Apply now is disabled for the read-only user');

    // Nor read the audit trail.
    await page.locator('#nav-audit').click();
    await page.locator('#view .error', { hasText: 'bosun:ListAuditRecords' }).waitFor();
    check(true, 'the read-only user is refused the audit trail with the server\'s reason');

    // Nor start a session.
    await page.goto(`${args.url}#/terminal/${args.nodes[0]}`);
    await page.locator('#session-denied', { hasText: 'ssm:StartSession' }).waitFor();
    check(await page.locator('#session-start').isDisabled(), 'Start session is disabled for the read-only user');

    // The read-only user cannot create parameters or documents, nor reveal a SecureString.
    await page.locator('#nav-parameters').click();
    await page.locator('#param-save-reason', { hasText: 'ssm:PutParameter' }).waitFor();
    check(await page.locator('#param-save').isDisabled(), 'Create parameter is disabled for the read-only user');
    await shot(page, 'read-only-parameters');
    await page.goto(`${args.url}#/parameter/${encodeURIComponent('/console/app/password')}`);
    await page.locator('#param-reveal-reason', { hasText: 'kms:Decrypt' }).waitFor();
    check(await page.locator('#param-reveal').isDisabled(), 'Reveal is disabled without kms:Decrypt');
    await page.locator('#nav-documents').click();
    await page.locator('#doc-create-reason', { hasText: 'ssm:CreateDocument' }).waitFor();
    check(await page.locator('#doc-create-save').isDisabled(), 'Create document is disabled for the read-only user');
    await page.goto(`${args.url}#/document/Console-Hello`);
    await page.locator('#doc-edit-reason', { hasText: 'ssm:UpdateDocument' }).waitFor();
    check(await page.locator('#doc-edit-save').isDisabled(), 'Save is disabled for the read-only user');
    await page.locator('#doc-versions-table button[data-version="1"][disabled]').waitFor();
    check(true, 'so is Make default');
    await shot(page, 'read-only-document');
    const forcedPut = await api(page, 'AmazonSSM.PutParameter', { Name: '/console/forced', Value: 'x', Type: 'String' });
    check(forcedPut.status === 400 && forcedPut.body.includes('AccessDeniedException'), `a forced PutParameter is refused (${forcedPut.body})`);
  } catch (e) {
    // What the page showed when a check failed, and a picture of it.
    if (page) {
      console.error(`the page at ${page.url()} showed:\n${await page.locator('#main').innerText().catch(() => '?')}`);
      await shot(page, 'failure').catch(() => {});
    }
    throw e;
  } finally {
    await browser.close();
  }
  console.log('console: all checks passed');
}

main().catch((e) => { console.error(e); process.exit(1); });
