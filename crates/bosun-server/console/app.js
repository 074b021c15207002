// Bosun console: sign-in, region, navigation between views (hash routes).
import { session, login, logout, resume, errorBox } from './api.js';
import { fleetView, nodeView } from './fleet.js';
import { runView, commandView, historyView } from './run.js';
import { parametersView, parameterView } from './params.js';
import { documentsView, documentView } from './documents.js';
import { overviewView } from './overview.js';
import { terminalView, sessionsView } from './terminal.js';
import { automationView, executionView } from './automation.js';
import { associationsView, associationView } from './associations.js';
import { windowsView, windowView } from './windows.js';
import { eventsView } from './events.js';
import { auditView } from './audit.js';
import { groupsView, groupView } from './groups.js';

const $ = (id) => document.getElementById(id);

function showLogin() {
  $('bar').hidden = true; $('view').hidden = true; $('login-view').hidden = false;
  $('login-id').focus();
}

function showApp() {
  $('login-view').hidden = true; $('bar').hidden = false; $('view').hidden = false;
  $('who').textContent = session.user;
  const sel = $('region');
  sel.replaceChildren(...session.regions.map((r) => new Option(r, r, false, r === session.region)));
  route();
}

async function route() {
  const view = $('view');
  const [, name, arg] = (location.hash || '#/fleet').split('/');
  const section = { parameter: 'parameters', document: 'documents', node: 'fleet', command: 'commands', terminal: 'sessions', execution: 'automation', association: 'associations', window: 'windows', group: 'groups' }[name] || name;
  for (const a of document.querySelectorAll('header nav a')) {
    a.toggleAttribute('aria-current', a.id === `nav-${section}`);
    if (a.id === `nav-${section}`) a.setAttribute('aria-current', 'page');
  }
  // Each visit draws into its own element, so a slower earlier visit cannot draw into this one.
  const page = document.createElement('div');
  view.replaceChildren(page);
  try {
    if (name === 'node' && arg) await nodeView(page, decodeURIComponent(arg));
    else if (name === 'run') await runView(page);
    else if (name === 'command' && arg) await commandView(page, decodeURIComponent(arg));
    else if (name === 'commands') await historyView(page);
    else if (name === 'parameters') await parametersView(page, arg ? decodeURIComponent(arg) : '/');
    else if (name === 'parameter' && arg) await parameterView(page, decodeURIComponent(arg));
    else if (name === 'documents') await documentsView(page);
    else if (name === 'document' && arg) await documentView(page, decodeURIComponent(arg));
    else if (name === 'overview') await overviewView(page);
    else if (name === 'terminal' && arg) await terminalView(page, decodeURIComponent(arg));
    else if (name === 'sessions') await sessionsView(page);
    else if (name === 'automation') await automationView(page);
    else if (name === 'associations') await associationsView(page);
    else if (name === 'windows') await windowsView(page);
    else if (name === 'events') await eventsView(page);
    else if (name === 'audit') await auditView(page);
    else if (name === 'groups') await groupsView(page);
    else if (name === 'group' && arg) await groupView(page, decodeURIComponent(arg));
    else if (name === 'window' && arg) await windowView(page, decodeURIComponent(arg));
    else if (name === 'association' && arg) await associationView(page, decodeURIComponent(arg));
    else if (name === 'execution' && arg) await executionView(page, decodeURIComponent(arg));
    else await fleetView(page);
  } catch (e) {
    if (e.status === 401) { showLogin(); return; }
    page.append(errorBox(e));
  }
}

$('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const out = $('login-error'); out.replaceChildren();
  const secret = $('login-secret');
  try {
    await login($('login-id').value.trim(), secret.value);
    secret.value = '';
    showApp();
  } catch (e) {
    out.append(errorBox(e));
  }
});
$('signout').addEventListener('click', async () => { await logout().catch(() => {}); showLogin(); });
$('region').addEventListener('change', (ev) => { session.region = ev.target.value; route(); });
window.addEventListener('hashchange', () => { if (!$('bar').hidden) route(); });

if (await resume()) showApp(); else showLogin();
