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

async function post(path, body, headers = {}) {
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
