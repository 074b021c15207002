// Bosun console: sign-in, region, navigation between views (hash routes).
import { session, login, logout, resume, errorBox } from './api.js';
import { fleetView, nodeView } from './fleet.js';
import { runView, commandView, historyView } from './run.js';

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
  for (const a of document.querySelectorAll('header nav a')) {
    a.toggleAttribute('aria-current', a.id === `nav-${name}`);
    if (a.id === `nav-${name}`) a.setAttribute('aria-current', 'page');
  }
  view.replaceChildren();
  try {
    if (name === 'node' && arg) await nodeView(view, decodeURIComponent(arg));
    else if (name === 'run') await runView(view);
    else if (name === 'command' && arg) await commandView(view, decodeURIComponent(arg));
    else if (name === 'commands') await historyView(view);
    else await fleetView(view);
  } catch (e) {
    if (e.status === 401) { showLogin(); return; }
    view.append(errorBox(e));
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
