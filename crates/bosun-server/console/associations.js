// Bosun console: State Manager — associations with their overall status, compliance by type, and
// one association's definition, its executions and each execution's outcome per node.
import { call, h, errorBox, guard, localTime, table, pager } from './api.js';

function targetsText(targets) {
  return (targets || []).map((t) => `${t.Key}=${(t.Values || []).join(',')}`).join('; ');
}

/** `#/associations`: associations (paged by the server) and the compliance summary by type. */
export async function associationsView(root) {
  const errors = h('div');
  const fail = (e) => { if (e.status === 401) throw e; errors.append(errorBox(e)); };
  const body = h('tbody');
  const list = table({ id: 'assoc-table' }, ['Association', 'Document', 'Targets', 'Schedule', 'Status', 'Last run'], []);
  list.querySelector('tbody').replaceWith(body);
  const paging = pager(async (token) => {
    const input = { MaxResults: 25 };
    if (token) input.NextToken = token;
    const out = await call('ListAssociations', input);
    body.replaceChildren(...(out.Associations || []).map((a) => h('tr', { 'data-association': a.AssociationId },
      h('td', {}, h('a', { href: `#/association/${a.AssociationId}` }, a.AssociationName || a.AssociationId)),
      h('td', {}, a.Name), h('td', {}, targetsText(a.Targets) || a.InstanceId || ''), h('td', {}, a.ScheduleExpression || 'once'),
      h('td', { class: `status-${a.Overview?.Status}` }, a.Overview?.DetailedStatus || a.Overview?.Status || ''),
      h('td', {}, localTime(a.LastExecutionDate)))));
    if (!body.children.length) body.append(h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'No associations.')));
    return out.NextToken;
  }, fail, 'assoc');
  const summary = h('div', { id: 'assoc-compliance' });
  root.append(h('h1', {}, 'State Manager'), errors, h('h2', {}, 'Associations'), list, paging.el,
    h('h2', {}, 'Compliance by type'), summary);
  await paging.reset();
  try {
    const out = await call('ListComplianceSummaries', { MaxResults: 50 });
    const rows = out.ComplianceSummaryItems || [];
    summary.append(rows.length ? table({ id: 'assoc-compliance-table' }, ['Type', 'Compliant', 'Non-compliant'], rows.map((c) => h('tr', { 'data-type': c.ComplianceType },
      h('td', {}, c.ComplianceType), h('td', { class: 'status-Success' }, String(c.CompliantSummary?.CompliantCount ?? 0)),
      h('td', { class: c.NonCompliantSummary?.NonCompliantCount ? 'status-Failed' : '' }, String(c.NonCompliantSummary?.NonCompliantCount ?? 0)))))
      : h('p', { class: 'muted' }, 'No compliance data.'));
  } catch (e) { fail(e); }
}

/** One execution's outcome per node, with the Run Command behind each. */
async function showTargets(box, associationId, executionId) {
  box.replaceChildren(h('h2', {}, `Execution ${executionId}`), h('p', { class: 'muted' }, 'Loading…'));
  const rows = [];
  let token;
  do {
    const input = { AssociationId: associationId, ExecutionId: executionId, MaxResults: 50 };
    if (token) input.NextToken = token;
    const out = await call('DescribeAssociationExecutionTargets', input);
    rows.push(...(out.AssociationExecutionTargets || []));
    token = out.NextToken;
  } while (token && rows.length < 1000);
  box.replaceChildren(h('h2', {}, `Execution ${executionId}`), table({ id: 'assoc-targets-table' }, ['Node', 'Status', 'Detail', 'Run Command', 'When'],
    rows.map((t) => h('tr', { 'data-resource': t.ResourceId },
      h('td', {}, h('a', { href: `#/node/${encodeURIComponent(t.ResourceId)}` }, t.ResourceId)),
      h('td', { class: `status-${t.Status}` }, t.Status), h('td', {}, t.DetailedStatus || ''),
      h('td', {}, t.OutputSource?.OutputSourceId ? h('a', { href: `#/command/${t.OutputSource.OutputSourceId}` }, t.OutputSource.OutputSourceId) : ''),
      h('td', {}, localTime(t.LastExecutionDate))))));
}

/** `#/association/<id>`: the definition, "Apply now", the executions and their targets. */
export async function associationView(root, id) {
  const { AssociationDescription: a } = await call('DescribeAssociation', { AssociationId: id });
  const apply = h('button', { type: 'button', id: 'assoc-apply' }, 'Apply now');
  const why = h('span', { class: 'reason', id: 'assoc-apply-reason' });
  const errors = h('div');
  const targetsBox = h('section', { id: 'assoc-targets' });
  const execBody = h('tbody');
  const execs = table({ id: 'assoc-exec-table' }, ['Execution', 'Status', 'Detail', 'Nodes by status', 'Created'], []);
  execs.querySelector('tbody').replaceWith(execBody);
  const paging = pager(async (token) => {
    const input = { AssociationId: id, MaxResults: 20 };
    if (token) input.NextToken = token;
    const out = await call('DescribeAssociationExecutions', input);
    execBody.replaceChildren(...(out.AssociationExecutions || []).map((x) => h('tr', { 'data-execution': x.ExecutionId },
      h('td', {}, h('button', { type: 'button', class: 'linklike', onclick: () => showTargets(targetsBox, id, x.ExecutionId).catch((e) => targetsBox.append(errorBox(e))) }, x.ExecutionId)),
      h('td', { class: `status-${x.Status}` }, x.Status), h('td', {}, x.DetailedStatus || ''),
      h('td', {}, x.ResourceCountByStatus || ''), h('td', {}, localTime(x.CreatedTime)))));
    if (!execBody.children.length) execBody.append(h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'No executions yet.')));
    return out.NextToken;
  }, (e) => errors.append(errorBox(e)), 'assoc-exec');
  apply.addEventListener('click', async () => {
    apply.disabled = true; apply.dataset.busy = '1'; errors.replaceChildren();
    try {
      await call('StartAssociationsOnce', { AssociationIds: [id] });
      await paging.reset();
    } catch (e) { errors.append(errorBox(e)); }
    delete apply.dataset.busy; apply.disabled = false;
  });
  root.append(h('p', {}, h('a', { href: '#/associations' }, '← State Manager')),
    h('h1', {}, a.AssociationName || a.AssociationId),
    h('dl', { class: 'kv', id: 'assoc-definition' },
      h('dt', {}, 'Id'), h('dd', {}, h('code', {}, a.AssociationId)),
      h('dt', {}, 'Document'), h('dd', {}, h('a', { href: `#/document/${encodeURIComponent(a.Name)}` }, a.Name), a.DocumentVersion ? ` (${a.DocumentVersion})` : ''),
      h('dt', {}, 'Targets'), h('dd', {}, targetsText(a.Targets)),
      h('dt', {}, 'Schedule'), h('dd', {}, a.ScheduleExpression || 'once, at creation'),
      h('dt', {}, 'Rate control'), h('dd', {}, `${a.MaxConcurrency ? `${a.MaxConcurrency} at a time` : 'all at once'}, ${a.MaxErrors ? `stop after ${a.MaxErrors} errors` : 'no error limit'}`),
      h('dt', {}, 'Version'), h('dd', {}, a.AssociationVersion || ''),
      h('dt', {}, 'Status'), h('dd', { class: `status-${a.Overview?.Status}` }, a.Overview?.DetailedStatus || a.Overview?.Status || '')),
    h('p', {}, apply, why), errors, h('h2', {}, 'Executions'), execs, paging.el, targetsBox);
  await guard(apply, why, 'StartAssociationsOnce', { AssociationIds: [id] }, 'apply this association now');
  await paging.reset();
}
