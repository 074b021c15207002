// Bosun console: resource groups — groups of nodes by tag (Resource Groups' API, named
// `ResourceGroups.<Operation>` to the console's endpoint), their queries and their members now.
import { call, h, errorBox, table, guard } from './api.js';

const rg = (op, input) => call(`ResourceGroups.${op}`, input);

/** The tag filters of a group's `TAG_FILTERS_1_0` query as text. */
function queryText(query) {
  try {
    const q = JSON.parse(query.Query);
    return (q.TagFilters || []).map((f) => `${f.Key}=${(f.Values || []).join('|') || '*'}`).join(' and ');
  } catch { return query.Query || ''; }
}

/** `#/groups`: the groups, each with its query; a form makes a group of nodes by one tag. */
export async function groupsView(root) {
  const errors = h('div');
  const list = h('div', { id: 'groups-list' });
  const name = h('input', { id: 'group-name', size: 24, placeholder: 'web-servers' });
  const tag = h('input', { id: 'group-tag', size: 24, placeholder: 'role=web' });
  const create = h('button', { type: 'submit', id: 'group-create' }, 'Create group');
  const why = h('span', { class: 'reason', id: 'group-create-reason' });
  async function load() {
    const groups = [];
    let token;
    do {
      const out = await rg('ListGroups', token ? { NextToken: token, MaxResults: 50 } : { MaxResults: 50 });
      groups.push(...(out.GroupIdentifiers || []));
      token = out.NextToken;
    } while (token && groups.length < 500);
    if (!groups.length) { list.replaceChildren(h('p', { class: 'muted' }, 'No resource groups.')); return; }
    const rows = await Promise.all(groups.map(async (g) => {
      const q = await rg('GetGroupQuery', { Group: g.GroupName }).then((o) => queryText(o.GroupQuery.ResourceQuery), () => '');
      return h('tr', { 'data-group': g.GroupName },
        h('td', {}, h('a', { href: `#/group/${encodeURIComponent(g.GroupName)}` }, g.GroupName)), h('td', {}, h('code', {}, q)));
    }));
    list.replaceChildren(table({ id: 'groups-table' }, ['Group', 'Nodes tagged'], rows));
  }
  const form = h('form', { class: 'filters', onsubmit: async (ev) => {
    ev.preventDefault(); errors.replaceChildren();
    const [k, ...v] = tag.value.trim().split('=');
    if (!name.value.trim() || !k || !v.length) { errors.append(errorBox({ code: 'InvalidInput', message: 'Name the group and a tag key=value.' })); return; }
    create.disabled = true;
    try {
      await rg('CreateGroup', {
        Name: name.value.trim(),
        ResourceQuery: { Type: 'TAG_FILTERS_1_0', Query: JSON.stringify({ ResourceTypeFilters: ['AWS::SSM::ManagedInstance'], TagFilters: [{ Key: k, Values: [v.join('=')] }] }) },
      });
      name.value = ''; tag.value = '';
      await load();
    } catch (e) { errors.append(errorBox(e)); }
    create.disabled = false;
  } }, h('label', {}, 'Name ', name), h('label', {}, 'Tag ', tag), create, why);
  root.append(h('h1', {}, 'Resource groups'),
    h('p', { class: 'hint' }, 'Groups of nodes by tag, computed when read: a node tagged later is a member at once. Run Command and State Manager target them as resource-groups:Name.'),
    list, h('h2', {}, 'New group'), form, errors);
  await guard(create, why, 'ResourceGroups.CreateGroup', { Name: 'x' }, 'create groups');
  await load().catch((e) => errors.append(errorBox(e)));
}

/** `#/group/<name>`: its query and its members now. */
export async function groupView(root, name) {
  const [{ GroupQuery: q }, members] = await Promise.all([
    rg('GetGroupQuery', { Group: name }),
    rg('ListGroupResources', { Group: name, MaxResults: 50 }),
  ]);
  const ids = (members.Resources || members.ResourceIdentifiers || []).map((r) => (r.Identifier || r).ResourceArn || '');
  root.append(h('p', {}, h('a', { href: '#/groups' }, '← Resource groups')), h('h1', {}, name),
    h('p', {}, 'Nodes tagged ', h('code', {}, queryText(q.ResourceQuery))),
    table({ id: 'group-members' }, ['Node'], ids.map((arn) => {
      const id = arn.split('/').pop();
      return h('tr', { 'data-instance': id }, h('td', {}, h('a', { href: `#/node/${id}` }, id)));
    })));
  if (members.NextToken) root.append(h('p', { class: 'muted' }, 'More than 50 members: the first 50 are shown.'));
}
