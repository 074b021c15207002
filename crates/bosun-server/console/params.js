// Bosun console: Parameter Store. The tree is DescribeParameters under a path (metadata only, so
// no value is fetched to draw it), paged by the server; a parameter's page shows its value
// (a SecureString stays hidden until "reveal", offered only when /console/can says both
// ssm:GetParameter and kms:Decrypt are allowed; the plaintext lives in the DOM only), its
// history and labels. Writes go through PutParameter / LabelParameterVersion with the server's
// error (code, message, request id) shown inline.
import { call, guard, h, errorBox, localTime, table, pager } from './api.js';

const PAGE = 50;
const link = (name) => `#/parameter/${encodeURIComponent(name)}`;
const folderLink = (path) => `#/parameters/${encodeURIComponent(path)}`;

/** Nested folders from parameter names below `base` ("/" or "/a/b"). */
function grow(base, params) {
  const root = { folders: new Map(), params: [] };
  const prefix = base === '/' ? '/' : `${base}/`;
  for (const p of params) {
    const rest = p.Name.startsWith(prefix) ? p.Name.slice(prefix.length) : p.Name;
    const parts = rest.split('/').filter(Boolean);
    let node = root;
    let at = base === '/' ? '' : base;
    for (const part of parts.slice(0, -1)) {
      at = `${at}/${part}`;
      if (!node.folders.has(part)) node.folders.set(part, { path: at, folders: new Map(), params: [] });
      node = node.folders.get(part);
    }
    node.params.push(p);
  }
  return root;
}

function drawTree(node) {
  const items = [];
  for (const [name, f] of [...node.folders].sort(([a], [b]) => a.localeCompare(b))) {
    items.push(h('li', { role: 'treeitem', 'aria-expanded': 'true', class: 'folder' },
      h('a', { href: folderLink(f.path), 'data-folder': f.path }, `${name}/`), drawTree(f)));
  }
  for (const p of node.params) {
    items.push(h('li', { role: 'treeitem', 'data-parameter': p.Name },
      h('a', { href: link(p.Name) }, p.Name.split('/').pop() || p.Name),
      h('span', { class: 'muted' }, ` ${p.Type} · v${p.Version} · ${localTime(p.LastModifiedDate)}`)));
  }
  return h('ul', { role: 'group' }, ...items);
}

/** The create form: shared by the tree page (a new name) and a parameter's page (a new version). */
function putForm(fixedName, fixedType, onDone) {
  const errors = h('div', { id: 'param-put-errors' });
  const nameIn = h('input', { id: 'param-name', size: 50, required: true, value: fixedName || '', readonly: Boolean(fixedName) });
  const type = h('select', { id: 'param-type', disabled: Boolean(fixedType) },
    ...['String', 'StringList', 'SecureString'].map((t) => h('option', { value: t, selected: t === fixedType }, t)));
  const value = h('textarea', { id: 'param-value', rows: 3, cols: 60, required: true });
  const description = h('input', { id: 'param-description', size: 50 });
  const save = h('button', { type: 'submit', id: 'param-save' }, fixedName ? 'Put new version' : 'Create');
  const reason = h('span', { class: 'reason', id: 'param-save-reason' });
  const check = () => guard(save, reason, 'PutParameter', { Name: nameIn.value.trim() || '/' }, 'put parameters')
    .catch((e) => errors.replaceChildren(errorBox(e)));
  nameIn.addEventListener('change', check);
  const form = h('form', {
    id: 'param-form',
    onsubmit: async (ev) => {
      ev.preventDefault();
      errors.replaceChildren();
      const input = { Name: nameIn.value.trim(), Type: type.value, Value: value.value };
      if (description.value) input.Description = description.value;
      if (fixedName) input.Overwrite = true;
      save.disabled = true; save.dataset.busy = '1';
      try {
        const out = await call('PutParameter', input);
        value.value = '';
        onDone(input.Name, out);
      } catch (e) {
        errors.append(errorBox(e));
      } finally { delete save.dataset.busy; check(); }
    },
  }, h('label', {}, 'Name ', nameIn), h('label', {}, 'Type ', type), h('label', {}, 'Value', h('br'), value),
  h('label', {}, 'Description ', description), save, reason, errors);
  return { form, check };
}

export async function parametersView(root, path) {
  const base = path || '/';
  const recursive = h('input', { type: 'checkbox', id: 'param-recursive', checked: true });
  const pathIn = h('input', { id: 'param-path', size: 40, value: base });
  const tree = h('div', { id: 'param-tree', role: 'tree', 'aria-label': 'Parameters by path' });
  // Arrow keys move between the tree's entries (Tab leaves it); Enter opens one.
  tree.addEventListener('keydown', (ev) => {
    const links = [...tree.querySelectorAll('a')];
    const at = links.indexOf(document.activeElement);
    const to = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: links.length - 1 }[ev.key];
    if (to === undefined || at < 0 || !links[to]) return;
    ev.preventDefault();
    links[to].focus();
  });
  const errors = h('div');
  const fail = (e) => { if (e.status === 401) throw e; errors.replaceChildren(errorBox(e)); };
  const crumbs = [h('a', { href: folderLink('/') }, '/')];
  let at = '';
  for (const part of base.split('/').filter(Boolean)) {
    at = `${at}/${part}`;
    crumbs.push(h('a', { href: folderLink(at) }, `${part}/`));
  }
  const { el: pagerEl, reset } = pager(async (token) => {
    errors.replaceChildren();
    tree.setAttribute('aria-busy', 'true');
    const input = { MaxResults: PAGE };
    // Names without a leading slash count as children of "/", as the server places them.
    input.ParameterFilters = [{ Key: 'Path', Option: recursive.checked ? 'Recursive' : 'OneLevel', Values: [base] }];
    if (token) input.NextToken = token;
    try {
      const out = await call('DescribeParameters', input);
      const params = out.Parameters || [];
      tree.replaceChildren(params.length ? drawTree(grow(base, params)) : h('p', { class: 'muted' }, 'No parameters here.'));
      return out.NextToken;
    } finally { tree.setAttribute('aria-busy', 'false'); }
  }, fail, 'param-page');
  const create = putForm('', '', (name) => { location.hash = link(name); });
  create.form.querySelector('#param-name').value = base === '/' ? '/' : `${base}/`;
  root.append(h('h1', {}, 'Parameter Store'),
    h('form', { class: 'filters', onsubmit: (ev) => { ev.preventDefault(); location.hash = folderLink(pathIn.value.trim() || '/'); } },
      h('label', {}, 'Path ', pathIn), h('label', {}, recursive, ' include sub-paths'), h('button', { type: 'submit', id: 'param-go' }, 'Open')),
    h('nav', { 'aria-label': 'Path', class: 'crumbs' }, ...crumbs),
    errors, tree, pagerEl,
    h('section', {}, h('h2', {}, 'Create a parameter'), create.form));
  recursive.addEventListener('change', () => reset().catch(fail));
  await Promise.all([reset().catch(fail), create.check()]);
}

export async function parameterView(root, name) {
  const errors = h('div');
  const parent = name.includes('/') ? name.slice(0, name.lastIndexOf('/')) || '/' : '/';
  root.append(h('p', {}, h('a', { href: folderLink(parent) }, '← Parameter Store')), h('h1', {}, name), errors);
  const out = await call('GetParameter', { Name: name });
  const p = out.Parameter;
  const secure = p.Type === 'SecureString';
  const valueEl = h('pre', { id: 'param-shown-value', class: secure ? 'hidden-value' : '' }, secure ? '•••••••• (SecureString, hidden)' : p.Value);
  const reveal = h('button', { type: 'button', id: 'param-reveal', hidden: !secure }, 'Reveal');
  const revealReason = h('span', { class: 'reason', id: 'param-reveal-reason' });
  reveal.addEventListener('click', async () => {
    errors.replaceChildren();
    if (reveal.dataset.shown) {
      valueEl.textContent = '•••••••• (SecureString, hidden)'; reveal.textContent = 'Reveal'; delete reveal.dataset.shown; return;
    }
    try {
      const plain = await call('GetParameter', { Name: name, WithDecryption: true });
      valueEl.textContent = plain.Parameter.Value; reveal.textContent = 'Hide'; reveal.dataset.shown = '1';
    } catch (e) { errors.append(errorBox(e)); }
  });
  root.append(h('section', {}, h('h2', {}, 'Value'),
    h('p', {}, `${p.Type} · version ${p.Version} · ${p.DataType || 'text'} · modified ${localTime(p.LastModifiedDate)}`),
    valueEl, reveal, revealReason));
  if (secure) await guard(reveal, revealReason, 'GetParameter', { Name: name, WithDecryption: true }, 'reveal this value');

  const history = h('div', { id: 'param-history' });
  const { el: historyPager, reset } = pager(async (token) => {
    const input = { Name: name, MaxResults: 50 };
    if (token) input.NextToken = token;
    const hist = await call('GetParameterHistory', input);
    history.replaceChildren(table({ id: 'param-history-table' }, ['Version', 'Modified', 'By', 'Labels', 'Value', 'Description'],
      (hist.Parameters || []).map((v) => h('tr', { 'data-version': v.Version },
        h('td', {}, String(v.Version)), h('td', {}, localTime(v.LastModifiedDate)), h('td', {}, v.LastModifiedUser || ''),
        h('td', {}, ...(v.Labels || []).map((l) => h('span', { class: 'chip' }, l))),
        h('td', {}, v.Type === 'SecureString' ? '(hidden)' : v.Value), h('td', {}, v.Description || '')))));
    return hist.NextToken;
  }, (e) => errors.append(errorBox(e)), 'history-page');
  root.append(h('section', {}, h('h2', {}, 'History'), history, historyPager));

  const labelErrors = h('div', { id: 'param-label-errors' });
  const version = h('input', { id: 'label-version', type: 'number', min: 1, value: p.Version, size: 6 });
  const label = h('input', { id: 'label-name', size: 30, required: true });
  const apply = h('button', { type: 'submit', id: 'label-apply' }, 'Label');
  const labelReason = h('span', { class: 'reason' });
  root.append(h('section', {}, h('h2', {}, 'Labels'), h('form', {
    id: 'label-form',
    onsubmit: async (ev) => {
      ev.preventDefault(); labelErrors.replaceChildren();
      try {
        const res = await call('LabelParameterVersion', { Name: name, ParameterVersion: Number(version.value), Labels: [label.value.trim()] });
        if ((res.InvalidLabels || []).length) labelErrors.append(errorBox({ code: 'InvalidLabels', message: `Not applied: ${res.InvalidLabels.join(', ')}` }));
        label.value = '';
        await reset();
      } catch (e) { labelErrors.append(errorBox(e)); }
    },
  }, h('label', {}, 'Version ', version), h('label', {}, 'Label ', label), apply, labelReason, labelErrors)));

  const put = putForm(name, p.Type, async () => { root.replaceChildren(); await parameterView(root, name); });
  root.append(h('section', {}, h('h2', {}, 'New version'), put.form));
  await Promise.all([reset(), put.check(),
    guard(apply, labelReason, 'LabelParameterVersion', { Name: name }, 'label versions')]);
}
