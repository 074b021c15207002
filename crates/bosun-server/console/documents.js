// Bosun console: Documents. The list is ListDocuments (owner and type filters, paged by the
// server); a document's page shows its versions (ListDocumentVersions), the default version
// (UpdateDocumentDefaultVersion), its content as YAML or JSON (GetDocument's DocumentFormat)
// and an editor (UpdateDocument). Create and update show the server's validation error inline.
import { call, guard, h, errorBox, localTime, table, pager } from './api.js';

const link = (name) => `#/document/${encodeURIComponent(name)}`;
const TYPES = ['Command', 'Automation', 'Session', 'Package', 'Policy'];

function contentForm(idPrefix, { name, submitText, onSubmit }) {
  const errors = h('div', { id: `${idPrefix}-errors` });
  const nameIn = h('input', { id: `${idPrefix}-name`, size: 50, required: true, value: name || '', readonly: Boolean(name) });
  const type = h('select', { id: `${idPrefix}-type`, hidden: Boolean(name) }, ...TYPES.map((t) => h('option', { value: t }, t)));
  const format = h('select', { id: `${idPrefix}-format` }, ...['YAML', 'JSON'].map((f) => h('option', { value: f }, f)));
  const content = h('textarea', { id: `${idPrefix}-content`, rows: 14, cols: 80, required: true, spellcheck: 'false', class: 'code' });
  const save = h('button', { type: 'submit', id: `${idPrefix}-save` }, submitText);
  const reason = h('span', { class: 'reason', id: `${idPrefix}-reason` });
  const form = h('form', {
    id: `${idPrefix}-form`,
    onsubmit: async (ev) => {
      ev.preventDefault();
      errors.replaceChildren();
      save.disabled = true; save.dataset.busy = '1';
      try {
        await onSubmit({ Name: nameIn.value.trim(), DocumentType: type.value, DocumentFormat: format.value, Content: content.value });
      } catch (e) {
        if (e.status === 401) throw e;
        errors.append(errorBox(e));
      } finally { delete save.dataset.busy; save.disabled = false; }
    },
  }, h('label', {}, 'Name ', nameIn), name ? null : h('label', {}, 'Type ', type), h('label', {}, 'Format ', format),
  h('label', {}, 'Content', h('br'), content), save, reason, errors);
  return { form, save, reason, content, format, nameIn, errors };
}

export async function documentsView(root) {
  const owner = h('select', { id: 'doc-owner' },
    ...[['Self', 'Owned by me'], ['Amazon', 'Amazon / built in'], ['', 'All']].map(([v, t]) => h('option', { value: v }, t)));
  const type = h('select', { id: 'doc-type' }, h('option', { value: '' }, 'any'), ...TYPES.map((t) => h('option', { value: t }, t)));
  const list = h('div', { id: 'doc-list' });
  const errors = h('div');
  const fail = (e) => { if (e.status === 401) throw e; errors.replaceChildren(errorBox(e)); };
  const { el: pagerEl, reset } = pager(async (token) => {
    errors.replaceChildren();
    const filters = [];
    if (owner.value) filters.push({ Key: 'Owner', Values: [owner.value] });
    if (type.value) filters.push({ Key: 'DocumentType', Values: [type.value] });
    const input = { MaxResults: 50 };
    if (filters.length) input.Filters = filters;
    if (token) input.NextToken = token;
    list.setAttribute('aria-busy', 'true');
    try {
      const out = await call('ListDocuments', input);
      const docs = out.DocumentIdentifiers || [];
      list.replaceChildren(docs.length ? table({ id: 'doc-table' }, ['Name', 'Type', 'Format', 'Owner', 'Version', 'Created'],
        docs.map((d) => h('tr', { 'data-document': d.Name },
          h('td', {}, h('a', { href: link(d.Name) }, d.Name)), h('td', {}, d.DocumentType || ''), h('td', {}, d.DocumentFormat || ''),
          h('td', {}, d.Owner || ''), h('td', {}, d.DocumentVersion || ''), h('td', {}, localTime(d.CreatedDate)))))
        : h('p', { class: 'muted' }, 'No documents.'));
      return out.NextToken;
    } finally { list.setAttribute('aria-busy', 'false'); }
  }, fail, 'doc-page');
  const create = contentForm('doc-create', {
    submitText: 'Create',
    onSubmit: async (input) => {
      await call('CreateDocument', input);
      location.hash = link(input.Name);
    },
  });
  root.append(h('h1', {}, 'Documents'),
    h('form', { class: 'filters', onsubmit: (ev) => { ev.preventDefault(); reset().catch(fail); } },
      h('label', {}, 'Owner ', owner), h('label', {}, 'Type ', type), h('button', { type: 'submit', id: 'doc-filter' }, 'Filter')),
    errors, list, pagerEl, h('section', {}, h('h2', {}, 'Create a document'), create.form));
  // Checked on the name typed (a policy may allow some names only), and before any is typed.
  const check = () => guard(create.save, create.reason, 'CreateDocument', { Name: create.nameIn.value.trim() || 'x' }, 'create documents')
    .catch((e) => create.errors.replaceChildren(errorBox(e)));
  create.nameIn.addEventListener('change', check);
  await Promise.all([reset().catch(fail), check()]);
}

export async function documentView(root, name) {
  const errors = h('div');
  root.append(h('p', {}, h('a', { href: '#/documents' }, '← Documents')), h('h1', {}, name), errors);
  const { Document: d } = await call('DescribeDocument', { Name: name });
  const owned = d.Owner !== 'Amazon';
  root.append(h('p', { id: 'doc-summary' },
    `${d.DocumentType} · ${d.DocumentFormat} · status ${d.Status} · default version ${d.DefaultVersion} of ${d.LatestVersion} · created ${localTime(d.CreatedDate)}`),
  d.Description ? h('p', { class: 'muted' }, d.Description) : '');

  const versions = h('div', { id: 'doc-versions' });
  const versionReason = h('span', { class: 'reason' });
  const makeDefault = [];
  const { el: versionsPager, reset } = pager(async (token) => {
    const input = { Name: name, MaxResults: 50 };
    if (token) input.NextToken = token;
    const out = await call('ListDocumentVersions', input);
    makeDefault.length = 0;
    versions.replaceChildren(table({ id: 'doc-versions-table' }, ['Version', 'Name', 'Created', 'Status', 'Default', ''],
      (out.DocumentVersions || []).map((v) => {
        const btn = h('button', { type: 'button', 'data-version': v.DocumentVersion, hidden: v.IsDefaultVersion || !owned },
          'Make default');
        makeDefault.push(btn);
        btn.addEventListener('click', async () => {
          errors.replaceChildren();
          try {
            await call('UpdateDocumentDefaultVersion', { Name: name, DocumentVersion: v.DocumentVersion });
            root.replaceChildren(); await documentView(root, name);
          } catch (e) { errors.append(errorBox(e)); }
        });
        return h('tr', { 'data-version': v.DocumentVersion },
          h('td', {}, v.DocumentVersion), h('td', {}, v.VersionName || ''), h('td', {}, localTime(v.CreatedDate)),
          h('td', {}, v.Status || ''), h('td', {}, v.IsDefaultVersion ? 'default' : ''), h('td', {}, btn));
      })));
    if (owned) await guard(makeDefault, versionReason, 'UpdateDocumentDefaultVersion', { Name: name }, 'change the default version');
    return out.NextToken;
  }, (e) => errors.append(errorBox(e)), 'doc-versions-page');
  root.append(h('section', {}, h('h2', {}, 'Versions'), versions, versionsPager, versionReason));

  const pick = h('select', { id: 'doc-view-version' }, h('option', { value: '' }, `default (${d.DefaultVersion})`),
    h('option', { value: '$LATEST' }, `latest (${d.LatestVersion})`));
  const fmt = h('select', { id: 'doc-view-format' }, ...['YAML', 'JSON'].map((f) => h('option', { value: f, selected: f === d.DocumentFormat }, f)));
  const content = h('pre', { id: 'doc-content', class: 'code', tabindex: '0' });
  async function show() {
    const input = { Name: name, DocumentFormat: fmt.value };
    if (pick.value) input.DocumentVersion = pick.value;
    try {
      const out = await call('GetDocument', input);
      content.textContent = out.Content;
      return out;
    } catch (e) { if (e.status === 401) throw e; content.replaceChildren(errorBox(e)); return null; }
  }
  pick.addEventListener('change', () => show());
  fmt.addEventListener('change', () => show());
  root.append(h('section', {}, h('h2', {}, 'Content'),
    h('div', { class: 'filters' }, h('label', {}, 'Version ', pick), h('label', {}, 'Format ', fmt)), content));

  const edit = contentForm('doc-edit', {
    name,
    submitText: 'Save as new version',
    onSubmit: async (input) => {
      await call('UpdateDocument', { Name: name, Content: input.Content, DocumentFormat: input.DocumentFormat, DocumentVersion: '$LATEST' });
      root.replaceChildren(); await documentView(root, name);
    },
  });
  if (owned) root.append(h('section', {}, h('h2', {}, 'Edit'), edit.form));
  const [shown] = await Promise.all([show(), reset(),
    owned ? guard(edit.save, edit.reason, 'UpdateDocument', { Name: name }, 'update this document') : null]);
  if (shown) { edit.content.value = shown.Content; edit.format.value = fmt.value; }
}
