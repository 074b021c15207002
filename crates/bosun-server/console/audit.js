// Bosun console: the audit trail — every mutating call and every denial, newest first, by
// principal, action or outcome (BosunAudit.ListAuditRecords), paged back through the chain.
import { call, h, errorBox, localTime, table } from './api.js';

/** `#/audit`: the trail with its filters and an "Older" button. */
export async function auditView(root) {
  const principal = h('input', { id: 'audit-principal', size: 16, placeholder: 'any user' });
  const action = h('input', { id: 'audit-action', size: 24, placeholder: 'e.g. ssm:Put' });
  const outcome = h('select', { id: 'audit-outcome' }, ...['', 'Allowed', 'Denied', 'Failed'].map((o) => h('option', { value: o }, o || 'any')));
  const apply = h('button', { type: 'submit', id: 'audit-apply' }, 'Apply');
  const older = h('button', { type: 'button', id: 'audit-older', disabled: true }, 'Older');
  const errors = h('div');
  const body = h('tbody');
  const list = table({ id: 'audit-table' }, ['Time', 'User', 'Action', 'Resource', 'Outcome', 'From', 'Request id', 'Detail'], []);
  list.querySelector('tbody').replaceWith(body);
  let next = null;
  async function load(more) {
    errors.replaceChildren();
    const input = { MaxResults: 50 };
    if (principal.value.trim()) input.Principal = principal.value.trim();
    if (action.value.trim()) input.ActionPrefix = action.value.trim();
    if (outcome.value) input.OutcomePrefix = outcome.value;
    if (more && next) input.BeforeSeq = next;
    const out = await call('BosunAudit.ListAuditRecords', input);
    const rows = (out.Records || []).map((r) => h('tr', { 'data-seq': String(r.Seq) },
      h('td', {}, localTime(r.Time)), h('td', {}, r.Principal), h('td', {}, h('code', {}, r.Action)),
      h('td', {}, h('code', {}, r.Resource)),
      h('td', { class: r.Outcome === 'Allowed' ? 'status-Success' : 'status-Failed' }, r.Outcome),
      h('td', {}, r.Source), h('td', {}, h('code', {}, r.RequestId)), h('td', {}, r.Detail || '')));
    if (more) body.append(...rows); else body.replaceChildren(...rows);
    if (!body.children.length) body.append(h('tr', {}, h('td', { colspan: 8, class: 'muted' }, 'No records.')));
    next = out.NextBeforeSeq || null;
    older.disabled = !next;
  }
  const fail = (e) => { if (e.status === 401) throw e; errors.append(errorBox(e)); };
  const form = h('form', { class: 'filters', onsubmit: (ev) => { ev.preventDefault(); load(false).catch(fail); } },
    h('label', {}, 'User ', principal), h('label', {}, 'Action starts with ', action), h('label', {}, 'Outcome ', outcome), apply);
  older.addEventListener('click', () => load(true).catch(fail));
  root.append(h('h1', {}, 'Audit trail'),
    h('p', { class: 'hint' }, 'Every change and every refusal, as the server recorded it in its hash-chained trail (bosun admin verify-audit checks the chain).'),
    form, errors, list, h('div', { class: 'pager' }, older));
  await load(false).catch(fail);
}
