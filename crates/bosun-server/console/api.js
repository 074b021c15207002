// Bosun console: talking to the server. The session is an HttpOnly cookie the page never sees;
// the CSRF token and the chosen region live in sessionStorage (never the access key).

export const session = {
  get csrf() { return sessionStorage.getItem('bosun.csrf') || ''; },
  get region() { return sessionStorage.getItem('bosun.region') || ''; },
  set region(r) { sessionStorage.setItem('bosun.region', r); },
  user: '', accountId: '', regions: [],
};

/** An error as the server gave it: its code, message and request id. */
export class ApiError extends Error {
  constructor(status, code, message, requestId) {
    super(message);
    this.status = status; this.code = code; this.requestId = requestId;
  }
}

async function post(path, body, headers = {}, raw = false) {
  let res;
  try {
    res = await fetch(path, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Bosun-Console-Csrf': session.csrf, ...headers },
      body: JSON.stringify(body ?? {}),
    });
  } catch (e) {
    throw new ApiError(0, 'NetworkError', String(e), '');
  }
  const requestId = res.headers.get('x-amzn-RequestId') || '';
  const text = await res.text();
  if (raw && res.ok) return text;
  let data = {};
  try { data = text ? JSON.parse(text) : {}; } catch { data = { message: text }; }
  if (!res.ok) {
    const code = String(data.__type || 'Error').split('#').pop();
    throw new ApiError(res.status, code, data.message || data.Message || text, requestId);
  }
  return data;
}

function remember(about) {
  if (about.csrf) sessionStorage.setItem('bosun.csrf', about.csrf);
  session.user = about.user; session.accountId = about.accountId; session.regions = about.regions || [];
  if (!session.regions.includes(session.region)) session.region = session.regions[0] || '';
}

export async function login(accessKeyId, secretAccessKey) {
  remember(await post('/console/login', { accessKeyId, secretAccessKey }));
}

/** Pick up a live session after a reload; false when there is none. */
export async function resume() {
  if (!session.csrf) return false;
  try { remember(await post('/console/session', {})); return true; } catch { return false; }
}

export async function logout() {
  try { await post('/console/logout', {}); } finally { sessionStorage.removeItem('bosun.csrf'); }
}

/** One API call (`AmazonSSM.DescribeInstanceInformation`, …) through the server's pipeline. */
export function call(target, input) {
  const full = target.includes('.') ? target : `AmazonSSM.${target}`;
  return post('/console/api', input, { 'X-Amz-Target': full, 'X-Bosun-Region': session.region });
}

/** One SNS call (its query protocol: a form body naming the Action) through the same pipeline;
 * the XML answer as a Document. */
export async function sns(action, params = {}) {
  const form = new URLSearchParams({ Action: action, Version: '2010-03-31', ...params });
  let res;
  try {
    res = await fetch('/console/api', {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Bosun-Console-Csrf': session.csrf, 'X-Bosun-Region': session.region },
      body: form.toString(),
    });
  } catch (e) {
    throw new ApiError(0, 'NetworkError', String(e), '');
  }
  const requestId = res.headers.get('x-amzn-RequestId') || '';
  const text = await res.text();
  if (text.trimStart().startsWith('{')) {
    // Refused before SNS was reached (no live session, a missing CSRF token): JSON.
    const data = JSON.parse(text);
    throw new ApiError(res.status, String(data.__type || 'Error').split('#').pop(), data.message || '', requestId);
  }
  const doc = new DOMParser().parseFromString(text, 'application/xml');
  if (!res.ok) {
    const field = (name) => doc.getElementsByTagName(name)[0]?.textContent || '';
    throw new ApiError(res.status, field('Code') || 'Error', field('Message'), field('RequestId') || requestId);
  }
  return doc;
}

/** A command step's whole stdout or stderr (text), for a caller allowed
 * ssm:GetCommandInvocation: `{CommandId, InstanceId, Step, Stream}`. */
export function commandOutput(which) {
  return post('/console/output', which, { 'X-Bosun-Region': session.region }, true);
}

/** A session's recorded log (asciinema v2 text), for a caller allowed ssm:DescribeSessions on it. */
export function sessionLog(sessionId) {
  return post('/console/session-log', { SessionId: sessionId }, { 'X-Bosun-Region': session.region }, true);
}

/** Ask the server which calls the caller may make: [{target, input}] -> [{allowed, reason}]. */
export async function can(checks) {
  const out = await post('/console/can', { checks }, { 'X-Bosun-Region': session.region });
  return out.results;
}

// Small DOM helpers shared by the views.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
  return el;
}

/** An error box with the server's code, message and request id. */
export function errorBox(e) {
  const box = h('div', { class: 'error', role: 'alert' },
    h('strong', {}, e.code || 'Error'), ': ', e.message || String(e));
  if (e.requestId) box.append(h('div', { class: 'muted' }, 'Request id: ', h('code', { class: 'request-id' }, e.requestId)));
  return box;
}

/** A time (epoch seconds, as the API gives it) in the browser's time zone. */
export function localTime(seconds) {
  if (seconds === undefined || seconds === null || seconds === '') return '';
  return new Date(Number(seconds) * 1000).toLocaleString();
}

/** Grey out `control` with the server's reason unless /console/can allows `target` on `input`
 * (several controls may share one check). Returns whether it is allowed. */
export async function guard(controls, reasonEl, target, input, what) {
  const [verdict] = await can([{ target: target.includes('.') ? target : `AmazonSSM.${target}`, input }]);
  for (const c of [controls].flat()) {
    // A control busy with its own request stays disabled until that request ends.
    c.disabled = !verdict.allowed || c.dataset.busy === '1';
    if (verdict.allowed) c.removeAttribute('title'); else c.title = verdict.reason || 'Not allowed';
  }
  if (reasonEl) reasonEl.textContent = verdict.allowed ? '' : `You cannot ${what}: ${verdict.reason}`;
  return verdict.allowed;
}

/** A table from column titles and rows of cells. */
export function table(attrs, columns, rows) {
  return h('table', attrs, h('thead', {}, h('tr', {}, ...columns.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, ...rows));
}

/** Previous/Next over a NextToken-paged call: `load(token)` shows one page and returns its
 * NextToken. Returns {el, reset}. */
export function pager(load, onError, idPrefix) {
  const tokens = [undefined];
  let page = 0;
  const prev = h('button', { type: 'button', id: `${idPrefix}-prev`, disabled: true }, 'Previous');
  const next = h('button', { type: 'button', id: `${idPrefix}-next`, disabled: true }, 'Next');
  const where = h('span', { class: 'muted' });
  async function show() {
    const token = await load(tokens[page]);
    tokens[page + 1] = token;
    prev.disabled = page === 0; next.disabled = !token;
    where.textContent = `page ${page + 1}`;
  }
  prev.addEventListener('click', () => { page -= 1; show().catch(onError); });
  next.addEventListener('click', () => { page += 1; show().catch(onError); });
  return { el: h('div', { class: 'pager' }, prev, next, where), reset: () => { tokens.length = 1; page = 0; return show(); } };
}
