// Bosun console: Overview, what needs attention now, from the existing APIs only: nodes not
// Online (DescribeInstanceInformation by PingStatus), commands Failed or TimedOut in the last
// 24 h (ListCommands' InvokedAfter and Status filters), failed association runs in the last 24 h
// (ListAssociations, then DescribeAssociationExecutions with Status and CreatedTime filters),
// resources with a NON_COMPLIANT compliance type (ListResourceComplianceSummaries) and
// automations waiting for approval (DescribeAutomationExecutions, ExecutionStatus Waiting).
// Each card pages no further than its first page and says so when there is more.
import { call, h, errorBox, localTime, table } from './api.js';

const DAY_MS = 24 * 3600 * 1000;
/** Most associations whose runs the overview looks at (one call each). */
const MAX_ASSOCIATIONS = 50;

async function card(root, id, title, work) {
  const count = h('span', { class: 'count', id: `${id}-count` }, '…');
  const body = h('div');
  const box = h('section', { class: 'card', id, 'aria-busy': 'true' }, h('h2', {}, title, ' ', count), body);
  root.append(box);
  try {
    const { n, more, el } = await work();
    count.textContent = `${n}${more ? '+' : ''}`;
    box.classList.toggle('attention', n > 0);
    body.append(n ? el : h('p', { class: 'muted' }, 'Nothing needs attention.'));
  } catch (e) {
    if (e.status === 401) throw e;
    count.textContent = '?';
    body.append(errorBox(e));
  } finally { box.setAttribute('aria-busy', 'false'); }
}

async function offlineNodes() {
  const out = await call('DescribeInstanceInformation', {
    Filters: [{ Key: 'PingStatus', Values: ['ConnectionLost', 'Inactive'] }], MaxResults: 50,
  });
  const nodes = out.InstanceInformationList || [];
  return {
    n: nodes.length, more: Boolean(out.NextToken),
    el: table({ id: 'overview-offline-table' }, ['Node', 'Name', 'Ping status', 'Last ping'], nodes.map((n) => h('tr', { 'data-instance': n.InstanceId },
      h('td', {}, h('a', { href: `#/node/${encodeURIComponent(n.InstanceId)}` }, n.InstanceId)), h('td', {}, n.Name || n.ComputerName || ''),
      h('td', { class: `status-${n.PingStatus}` }, n.PingStatus), h('td', {}, localTime(n.LastPingDateTime))))),
  };
}

async function failedCommands(since) {
  const lists = await Promise.all(['Failed', 'TimedOut'].map((status) => call('ListCommands', {
    Filters: [{ key: 'InvokedAfter', value: since }, { key: 'Status', value: status }], MaxResults: 50,
  })));
  const cmds = lists.flatMap((l) => l.Commands || []).sort((a, b) => b.RequestedDateTime - a.RequestedDateTime);
  return {
    n: cmds.length, more: lists.some((l) => l.NextToken),
    el: table({ id: 'overview-commands-table' }, ['Command', 'Document', 'Status', 'Errors', 'Requested'], cmds.map((c) => h('tr', { 'data-command': c.CommandId },
      h('td', {}, h('a', { href: `#/command/${c.CommandId}` }, c.CommandId)), h('td', {}, c.DocumentName),
      h('td', { class: `status-${c.Status}` }, c.Status), h('td', {}, `${c.ErrorCount} of ${c.TargetCount}`), h('td', {}, localTime(c.RequestedDateTime))))),
  };
}

async function failedAssociationRuns(since) {
  const out = await call('ListAssociations', { MaxResults: MAX_ASSOCIATIONS });
  const assocs = out.Associations || [];
  const runs = await Promise.all(assocs.map(async (a) => {
    const ex = await call('DescribeAssociationExecutions', {
      AssociationId: a.AssociationId, MaxResults: 50,
      Filters: [{ Key: 'Status', Value: 'Failed', Type: 'EQUAL' }, { Key: 'CreatedTime', Value: since, Type: 'GREATER_THAN' }],
    });
    return (ex.AssociationExecutions || []).map((e) => ({ ...e, label: a.AssociationName || a.Name }));
  }));
  const all = runs.flat().sort((x, y) => y.CreatedTime - x.CreatedTime);
  return {
    n: all.length, more: Boolean(out.NextToken),
    el: table({ id: 'overview-associations-table' }, ['Association', 'Execution', 'Status', 'Detail', 'Started'], all.map((e) => h('tr', {},
      h('td', {}, e.label), h('td', {}, h('code', {}, e.ExecutionId)), h('td', { class: `status-${e.Status}` }, e.Status),
      h('td', {}, e.DetailedStatus || ''), h('td', {}, localTime(e.CreatedTime))))),
  };
}

async function nonCompliant() {
  const out = await call('ListResourceComplianceSummaries', {
    Filters: [{ Key: 'Status', Values: ['NON_COMPLIANT'], Type: 'EQUAL' }], MaxResults: 50,
  });
  const list = out.ResourceComplianceSummaryItems || [];
  return {
    n: list.length, more: Boolean(out.NextToken),
    el: table({ id: 'overview-compliance-table' }, ['Resource', 'Compliance type', 'Severity', 'Non-compliant items', 'Checked'], list.map((r) => h('tr', { 'data-resource': r.ResourceId, 'data-type': r.ComplianceType },
      h('td', {}, r.ResourceType === 'ManagedInstance' ? h('a', { href: `#/node/${encodeURIComponent(r.ResourceId)}` }, r.ResourceId) : r.ResourceId),
      h('td', {}, r.ComplianceType), h('td', {}, r.OverallSeverity || ''), h('td', {}, String(r.NonCompliantSummary?.NonCompliantCount ?? '')),
      h('td', {}, localTime(r.ExecutionSummary?.ExecutionTime))))),
  };
}

async function waitingApprovals() {
  const out = await call('DescribeAutomationExecutions', {
    Filters: [{ Key: 'ExecutionStatus', Values: ['Waiting'] }], MaxResults: 50,
  });
  const list = out.AutomationExecutionMetadataList || [];
  return {
    n: list.length, more: Boolean(out.NextToken),
    el: table({ id: 'overview-approvals-table' }, ['Execution', 'Document', 'Step', 'Started'], list.map((x) => h('tr', { 'data-execution': x.AutomationExecutionId },
      h('td', {}, h('a', { href: `#/execution/${x.AutomationExecutionId}` }, h('code', {}, x.AutomationExecutionId))), h('td', {}, x.DocumentName), h('td', {}, x.CurrentStepName || ''),
      h('td', {}, localTime(x.ExecutionStartTime))))),
  };
}

async function failedDeliveries() {
  const out = await call('BosunEvents.ListFailedDeliveries', {});
  const list = out.Deliveries || [];
  return {
    n: list.length, more: false,
    el: h('div', {}, table({ id: 'overview-deliveries-table' }, ['Topic', 'Endpoint', 'Last error', 'Published'], list.slice(0, 20).map((d) => h('tr', {},
      h('td', {}, d.TopicArn.split(':').pop()), h('td', {}, `${d.Protocol || ''} ${d.Endpoint || ''}`),
      h('td', { class: 'status-Failed' }, d.LastError || ''), h('td', {}, localTime(d.PublishedTime))))),
    h('p', {}, h('a', { href: '#/events' }, 'Send them again from Events'))),
  };
}

export async function overviewView(root) {
  const since = new Date(Date.now() - DAY_MS).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const grid = h('div', { class: 'cards' });
  root.append(h('h1', {}, 'Overview'),
    h('p', { class: 'muted' }, `What needs attention now; "last 24 h" is since ${new Date(Date.now() - DAY_MS).toLocaleString()}.`), grid);
  await Promise.all([
    card(grid, 'overview-offline', 'Offline nodes', offlineNodes),
    card(grid, 'overview-commands', 'Failed commands (24 h)', () => failedCommands(since)),
    card(grid, 'overview-associations', 'Failed association runs (24 h)', () => failedAssociationRuns(since)),
    card(grid, 'overview-compliance', 'Non-compliant resources', nonCompliant),
    card(grid, 'overview-approvals', 'Pending automation approvals', waitingApprovals),
    card(grid, 'overview-deliveries', 'Failed deliveries', failedDeliveries),
  ]);
}
