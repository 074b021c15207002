// Bosun console: Session Manager in the browser — a terminal on a node (xterm.js over the same
// data channel as `aws ssm start-session`), resized with the window, its exit code shown; and the
// active and past sessions.
import { call, h, errorBox, guard, localTime, table, pager, sessionLog } from './api.js';
import { openChannel } from './channel.js';
import { Terminal } from './xterm.mjs';
import { FitAddon } from './xterm-addon-fit.mjs';

let stylesheet = false;
function loadStylesheet() {
  if (stylesheet) return;
  stylesheet = true;
  document.head.append(h('link', { rel: 'stylesheet', href: '/console/assets/xterm.css' }));
}

/** `#/terminal/<node>`: a button starts a shell session; the terminal shows it until it ends.
 * Leaving the view ends the session (nothing is left running for a page nobody sees). */
export async function terminalView(root, target) {
  loadStylesheet();
  const reason = h('input', { id: 'session-reason', size: 40, placeholder: 'optional, recorded with the session' });
  const start = h('button', { type: 'button', id: 'session-start' }, 'Start session');
  const stop = h('button', { type: 'button', id: 'session-end', disabled: true }, 'End session');
  const why = h('span', { class: 'reason', id: 'session-denied' });
  const status = h('p', { id: 'session-status', role: 'status', 'aria-live': 'polite' }, 'No session yet.');
  const errors = h('div');
  const screen = h('div', { id: 'terminal', class: 'terminal' });
  root.append(h('p', {}, h('a', { href: `#/node/${encodeURIComponent(target)}` }, `← ${target}`)),
    h('h1', {}, `Session on ${target}`),
    h('div', { class: 'filters' }, h('label', {}, 'Reason ', reason), start, stop, why), status, errors, screen,
    h('p', { class: 'hint' }, 'A login shell as the node\'s session preferences say (SSM-SessionManagerRunShell). Its output is recorded in the session log; what you type is recorded only as the terminal echoes it.'));
  await guard(start, why, 'StartSession', { Target: target }, 'start a session on this node');

  let channel = null; let sessionId = ''; let term = null;
  const leave = () => { if (location.hash !== `#/terminal/${encodeURIComponent(target)}`) end(); };
  function end() {
    window.removeEventListener('hashchange', leave);
    if (channel) { channel.terminate(); channel.close(); }
    if (sessionId) call('TerminateSession', { SessionId: sessionId }).catch(() => {});
  }

  start.addEventListener('click', async () => {
    start.disabled = true; start.dataset.busy = '1'; errors.replaceChildren();
    let started;
    try {
      const input = { Target: target };
      if (reason.value.trim()) input.Reason = reason.value.trim();
      started = await call('StartSession', input);
    } catch (e) {
      start.disabled = false; delete start.dataset.busy; errors.append(errorBox(e));
      return;
    }
    sessionId = started.SessionId;
    status.textContent = `Session ${sessionId}: connecting…`;
    term = new Terminal({ cursorBlink: true, fontSize: 13, scrollback: 5000, fontFamily: 'ui-monospace, SFMono-Regular, Menlo, monospace' });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(screen);
    fit.fit();
    channel = openChannel(started.StreamUrl, started.TokenValue, {
      onOutput(bytes) {
        if (status.dataset.state !== 'open') { status.dataset.state = 'open'; status.textContent = `Session ${sessionId}: connected.`; }
        term.write(bytes);
      },
      onEnd({ exitCode, reason: why }) {
        window.removeEventListener('hashchange', leave);
        window.removeEventListener('resize', refit);
        status.dataset.state = 'ended';
        status.textContent = exitCode !== null
          ? `Session ${sessionId} ended: exit code ${exitCode}.`
          : `Session ${sessionId} ended${why ? `: ${why}` : '.'}`;
        stop.disabled = true; channel = null; sessionId = '';
        term.options.disableStdin = true;
      },
    });
    channel.resize(term.cols, term.rows);
    term.onData((text) => channel && channel.send(text));
    term.onResize(({ cols, rows }) => channel && channel.resize(cols, rows));
    const refit = () => fit.fit();
    window.addEventListener('resize', refit);
    window.addEventListener('hashchange', leave);
    stop.disabled = false;
    stop.onclick = () => { stop.disabled = true; status.textContent = `Session ${sessionId}: ending…`; end(); };
    term.focus();
  });
}

/** What a session's terminal showed, replayed from its log (asciinema v2: a header line, then
 * [seconds, "o", text] events) into a read-only terminal. */
async function showLog(box, sessionId) {
  loadStylesheet();
  box.replaceChildren(h('h2', {}, `Log of ${sessionId}`), h('p', { class: 'muted' }, 'Loading…'));
  const text = await sessionLog(sessionId);
  const [head, ...events] = text.split('\n').filter((l) => l.trim());
  let size = {};
  try { size = JSON.parse(head || '{}'); } catch { size = {}; }
  const screen = h('div', { class: 'terminal', id: 'session-log-screen' });
  box.replaceChildren(h('h2', {}, `Log of ${sessionId}`),
    h('p', { class: 'hint' }, 'Output only: typed input appears as the terminal echoed it.'), screen);
  const term = new Terminal({ disableStdin: true, scrollback: 100000, fontSize: 13, cols: size.width || 80, rows: size.height || 24, fontFamily: 'ui-monospace, SFMono-Regular, Menlo, monospace' });
  term.open(screen);
  for (const line of events) {
    try {
      const [, kind, data] = JSON.parse(line);
      if (kind === 'o') term.write(data);
    } catch { /* a torn last line of a running session */ }
  }
}

/** `#/sessions`: the active sessions and the history, newest first as the server pages them;
 * a shell's or command's recorded log. */
export async function sessionsView(root) {
  const errors = h('div');
  const fail = (e) => errors.append(errorBox(e));
  const logBox = h('section', { id: 'session-log' });
  root.append(h('h1', {}, 'Sessions'), errors,
    h('p', { class: 'hint' }, 'Start a session from a node\'s page in the Fleet view.'));
  for (const state of ['Active', 'History']) {
    const body = h('tbody');
    const list = table({ id: `sessions-${state.toLowerCase()}` }, ['Session', 'Target', 'Status', 'Owner', 'Started', 'Ended', 'Details', 'Log'], []);
    list.querySelector('tbody').replaceWith(body);
    const paging = pager(async (token) => {
      const input = { State: state, MaxResults: 20 };
      if (token) input.NextToken = token;
      const out = await call('DescribeSessions', input);
      body.replaceChildren(...(out.Sessions || []).map((s) => h('tr', { 'data-session': s.SessionId },
        h('td', {}, h('code', {}, s.SessionId)),
        h('td', {}, h('a', { href: `#/node/${encodeURIComponent(s.Target)}` }, s.Target)),
        h('td', { class: `status-${s.Status}` }, s.Status), h('td', {}, (s.Owner || '').split('/').pop()),
        h('td', {}, localTime(s.StartDate)), h('td', {}, localTime(s.EndDate)), h('td', {}, s.Details || ''),
        h('td', {}, s.OutputUrl && s.OutputUrl.S3OutputUrl
          ? h('button', { type: 'button', class: 'session-log', onclick: () => showLog(logBox, s.SessionId).catch(fail) }, 'Log')
          : h('span', { class: 'muted' }, 'none')))));
      if (!body.children.length) body.append(h('tr', {}, h('td', { colspan: 8, class: 'muted' }, `No ${state.toLowerCase()} sessions.`)));
      return out.NextToken;
    }, fail, `sessions-${state.toLowerCase()}`);
    root.append(h('h2', {}, state === 'Active' ? 'Active' : 'History'), list, paging.el);
    await paging.reset();
  }
  root.append(logBox);
}
