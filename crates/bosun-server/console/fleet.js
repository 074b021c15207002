// Bosun console: the Fleet view (DescribeInstanceInformation, paged and filtered by the
// server) and a node's page (its commands, associations and compliance).
import { call, h, errorBox, localTime } from './api.js';

const PAGE = 50;

export async function fleetView(root) {
  const status = h('select', { id: 'filter-ping' },
    h('option', { value: '' }, 'any'), ...['Online', 'ConnectionLost', 'Inactive'].map((s) => h('option', { value: s }, s)));
  const tag = h('input', { id: 'filter-tag', placeholder: 'key=value', size: 20 });
  const apply = h('button', { type: 'submit', id: 'filter-apply' }, 'Filter');
  const table = h('table', { id: 'fleet-table' });
  const prev = h('button', { type: 'button', id: 'page-prev', disabled: true }, 'Previous');
  const next = h('button', { type: 'button', id: 'page-next', disabled: true }, 'Next');
  const count = h('span', { class: 'muted' });
  const errors = h('div');
  const tokens = [undefined];
  let page = 0;

  async function load() {
    errors.replaceChildren();
    table.setAttribute('aria-busy', 'true');
    const filters = [];
    if (status.value) filters.push({ Key: 'PingStatus', Values: [status.value] });
    const t = tag.value.trim();
    if (t) {
      const [k, ...v] = t.split('=');
      filters.push({ Key: `tag:${k}`, Values: [v.join('=')] });
    }
    const input = { MaxResults: PAGE };
    if (filters.length) input.Filters = filters;
    if (tokens[page]) input.NextToken = tokens[page];
    try {
      const out = await call('DescribeInstanceInformation', input);
      tokens[page + 1] = out.NextToken;
      render(out.InstanceInformationList || []);
      prev.disabled = page === 0; next.disabled = !out.NextToken;
    } catch (e) {
      if (e.status === 401) throw e;
      errors.append(errorBox(e));
    } finally {
      table.setAttribute('aria-busy', 'false');
    }
  }

  function render(nodes) {
    count.textContent = `${nodes.length} node(s) on page ${page + 1}`;
    table.replaceChildren(
      h('thead', {}, h('tr', {}, ...['Node', 'Name / computer', 'Ping status', 'Platform', 'Agent version', 'Last ping'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, ...nodes.map((n) => h('tr', { 'data-instance': n.InstanceId },
        h('td', {}, h('a', { href: `#/node/${encodeURIComponent(n.InstanceId)}` }, n.InstanceId)),
        h('td', {}, n.Name || n.ComputerName || ''),
        h('td', { class: `status-${n.PingStatus}` }, n.PingStatus || ''),
        h('td', {}, [n.PlatformName, n.PlatformVersion].filter(Boolean).join(' ') || n.PlatformType || ''),
        h('td', { class: n.IsLatestVersion === false ? 'outdated' : '' },
          n.AgentVersion || '', n.IsLatestVersion === false ? ' (outdated)' : ''),
        h('td', {}, localTime(n.LastPingDateTime)),
      ))),
    );
  }

  const form = h('form', { class: 'filters', onsubmit: (ev) => { ev.preventDefault(); page = 0; tokens.length = 1; load().catch(fail); } },
    h('label', {}, 'Ping status ', status), h('label', {}, 'Tag ', tag), apply);
  prev.addEventListener('click', () => { page -= 1; load().catch(fail); });
  next.addEventListener('click', () => { page += 1; load().catch(fail); });
  function fail(e) { errors.append(errorBox(e)); }
  root.append(h('h1', {}, 'Fleet'), form, errors, table, h('div', { class: 'pager' }, prev, next, count));
  await load();
}

async function section(root, title, work) {
  const box = h('section', {}, h('h2', {}, title));
  root.append(box);
  try { await work(box); } catch (e) { if (e.status === 401) throw e; box.append(errorBox(e)); }
}

export async function nodeView(root, id) {
  root.append(h('p', {}, h('a', { href: '#/fleet' }, '← Fleet')), h('h1', {}, id),
    h('p', {}, h('a', { href: `#/terminal/${encodeURIComponent(id)}`, id: 'node-terminal' }, 'Open a terminal on this node')));
  await section(root, 'Recent commands', async (box) => {
    const out = await call('ListCommandInvocations', { InstanceId: id, MaxResults: 20 });
    const rows = out.CommandInvocations || [];
    box.append(rows.length ? h('table', { id: 'node-commands' },
      h('thead', {}, h('tr', {}, ...['Command', 'Document', 'Status', 'Requested'].map((c) => h('th', {}, c)))),
      h('tbody', {}, ...rows.map((c) => h('tr', {},
        h('td', {}, h('a', { href: `#/command/${c.CommandId}` }, c.CommandId)),
        h('td', {}, c.DocumentName), h('td', { class: `status-${c.Status}` }, c.StatusDetails || c.Status),
        h('td', {}, localTime(c.RequestedDateTime)))))) : h('p', { class: 'muted' }, 'No commands.'));
  });
  await section(root, 'Associations', async (box) => {
    const out = await call('DescribeInstanceAssociationsStatus', { InstanceId: id });
    const rows = out.InstanceAssociationStatusInfos || [];
    box.append(rows.length ? h('table', {},
      h('thead', {}, h('tr', {}, ...['Association', 'Document', 'Status', 'Executed'].map((c) => h('th', {}, c)))),
      h('tbody', {}, ...rows.map((a) => h('tr', {},
        h('td', {}, a.AssociationName || a.AssociationId), h('td', {}, a.Name),
        h('td', { class: `status-${a.Status}` }, a.DetailedStatus || a.Status), h('td', {}, localTime(a.ExecutionDate)))))) : h('p', { class: 'muted' }, 'No associations.'));
  });
  await section(root, 'Sessions', async (box) => {
    const rows = [];
    for (const state of ['Active', 'History']) {
      const out = await call('DescribeSessions', { State: state, Filters: [{ key: 'Target', value: id }], MaxResults: 20 });
      rows.push(...(out.Sessions || []));
    }
    box.append(rows.length ? h('table', { id: 'node-sessions' },
      h('thead', {}, h('tr', {}, ...['Session', 'Status', 'Owner', 'Started', 'Details'].map((c) => h('th', {}, c)))),
      h('tbody', {}, ...rows.map((x) => h('tr', {},
        h('td', {}, h('code', {}, x.SessionId)), h('td', { class: `status-${x.Status}` }, x.Status),
        h('td', {}, (x.Owner || '').split('/').pop()), h('td', {}, localTime(x.StartDate)), h('td', {}, x.Details || '')))))
      : h('p', { class: 'muted' }, 'No sessions.'));
  });
  await section(root, 'Inventory (packages)', async (box) => {
    const out = await call('ListInventoryEntries', { InstanceId: id, TypeName: 'AWS:Application', MaxResults: 50 });
    const entries = out.Entries || [];
    box.append(entries.length ? h('table', { id: 'node-inventory' },
      h('thead', {}, h('tr', {}, ...['Name', 'Version'].map((c) => h('th', {}, c)))),
      h('tbody', {}, ...entries.map((e) => h('tr', {}, h('td', {}, e.Name || ''), h('td', {}, e.Version || '')))))
      : h('p', { class: 'muted' }, 'No packages installed through Distributor.'));
  });
  await section(root, 'Compliance', async (box) => {
    const out = await call('ListComplianceItems', { ResourceIds: [id], ResourceTypes: ['ManagedInstance'] });
    const items = out.ComplianceItems || [];
    const bad = items.filter((i) => i.Status === 'NON_COMPLIANT').length;
    box.append(h('p', {}, `${items.length} item(s), ${bad} non-compliant.`));
    if (items.length) box.append(h('table', {},
      h('thead', {}, h('tr', {}, ...['Type', 'Id', 'Status', 'Severity'].map((c) => h('th', {}, c)))),
      h('tbody', {}, ...items.map((i) => h('tr', {}, h('td', {}, i.ComplianceType), h('td', {}, i.Id || ''),
        h('td', {}, i.Status), h('td', {}, i.Severity || ''))))));
  });
}
