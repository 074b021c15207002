// Bosun console: Run Command (a document's parameters as a typed form, targets, rate control),
// a command's live per-node output, and the command history.
import { call, can, h, errorBox, localTime, commandOutput } from './api.js';

const TERMINAL = ['Success', 'Failed', 'TimedOut', 'Cancelled', 'Cancelling'];

async function commandDocuments() {
  const names = [];
  let token;
  do {
    const input = { Filters: [{ Key: 'DocumentType', Values: ['Command'] }], MaxResults: 50 };
    if (token) input.NextToken = token;
    const out = await call('ListDocuments', input);
    for (const d of out.DocumentIdentifiers || []) names.push(d.Name);
    token = out.NextToken;
  } while (token && names.length < 500);
  return names.sort();
}

/** The document's parameters: DescribeDocument's declarations with the constraints its content
 * declares (allowedValues, allowedPattern). */
async function declarations(name) {
  const described = await call('DescribeDocument', { Name: name });
  const params = described.Document.Parameters || [];
  let content = {};
  try {
    const doc = await call('GetDocument', { Name: name, DocumentFormat: 'JSON' });
    content = JSON.parse(doc.Content).parameters || {};
  } catch { /* constraints unknown: the server still validates */ }
  return params.map((p) => ({ ...p, allowedValues: content[p.Name]?.allowedValues, allowedPattern: content[p.Name]?.allowedPattern }));
}

function field(p) {
  const id = `param-${p.Name}`;
  let input;
  if (Array.isArray(p.allowedValues)) {
    input = h('select', { id, name: p.Name }, ...p.allowedValues.map((v) => h('option', { value: v, selected: String(v) === p.DefaultValue }, String(v))));
  } else if (p.Type === 'Boolean') {
    input = h('select', { id, name: p.Name }, ...['true', 'false'].map((v) => h('option', { value: v, selected: v === p.DefaultValue }, v)));
  } else if (p.Type === 'StringList' || p.Type === 'MapList') {
    input = h('textarea', { id, name: p.Name, rows: 4, cols: 60, placeholder: 'one value per line' });
    if (p.DefaultValue) { try { input.value = JSON.parse(p.DefaultValue).join('\n'); } catch { input.value = p.DefaultValue; } }
  } else {
    input = h('input', { id, name: p.Name, type: p.Type === 'Integer' ? 'number' : 'text', size: 50, value: p.DefaultValue ?? '' });
  }
  return { p, input, el: h('label', {}, `${p.Name} (${p.Type})`, h('br'), input, p.Description ? h('div', { class: 'muted' }, p.Description) : null) };
}

/** The values of one parameter as SendCommand takes them, checked against allowedPattern. */
function values(f) {
  const raw = f.input.value;
  const list = (f.p.Type === 'StringList' || f.p.Type === 'MapList') ? raw.split('\n').filter((l) => l.length) : (raw === '' ? [] : [raw]);
  if (f.p.allowedPattern) {
    // Anchored as the server anchors it; a pattern JavaScript cannot compile is left to the server.
    let re = null;
    try { re = new RegExp(`^(?:${f.p.allowedPattern})$`, 'u'); } catch { re = null; }
    for (const v of list) if (re && !re.test(v)) throw new Error(`${f.p.Name}: "${v}" does not match the allowed pattern ${f.p.allowedPattern}`);
  }
  return list;
}

export async function runView(root) {
  const errors = h('div', { id: 'run-errors' });
  const docSelect = h('select', { id: 'run-document' });
  const paramsBox = h('fieldset', { id: 'run-params' }, h('legend', {}, 'Parameters'));
  const ids = h('input', { id: 'run-instances', size: 60, placeholder: 'mi-0123… mi-4567…' });
  const tag = h('input', { id: 'run-tag', size: 30, placeholder: 'key=value' });
  const group = h('input', { id: 'run-group', size: 30, placeholder: 'a resource group' });
  const conc = h('input', { id: 'run-concurrency', value: '50', size: 6 });
  const errs = h('input', { id: 'run-maxerrors', value: '0', size: 6 });
  const send = h('button', { type: 'submit', id: 'run-send' }, 'Run');
  const reason = h('span', { class: 'reason', id: 'run-reason' });
  let fields = [];

  async function pick() {
    errors.replaceChildren();
    paramsBox.replaceChildren(h('legend', {}, 'Parameters'));
    fields = [];
    const name = docSelect.value;
    if (!name) return;
    const [decls, [verdict]] = await Promise.all([
      declarations(name),
      can([{ target: 'AmazonSSM.SendCommand', input: { DocumentName: name } }]),
    ]);
    fields = decls.map(field);
    paramsBox.append(...fields.map((f) => f.el));
    send.disabled = !verdict.allowed;
    reason.textContent = verdict.allowed ? '' : `You cannot run this document: ${verdict.reason}`;
  }

  async function submit(ev) {
    ev.preventDefault();
    errors.replaceChildren();
    const input = { DocumentName: docSelect.value, Parameters: {}, MaxConcurrency: conc.value, MaxErrors: errs.value };
    try {
      for (const f of fields) { const v = values(f); if (v.length) input.Parameters[f.p.Name] = v; }
    } catch (e) { errors.append(errorBox({ code: 'InvalidParameters', message: e.message })); return; }
    const list = ids.value.split(/[\s,]+/).filter(Boolean);
    if (list.length) input.InstanceIds = list;
    else if (tag.value.includes('=')) {
      const [k, ...v] = tag.value.trim().split('=');
      input.Targets = [{ Key: `tag:${k}`, Values: [v.join('=')] }];
    } else if (group.value.trim()) {
      input.Targets = [{ Key: 'resource-groups:Name', Values: [group.value.trim()] }];
    } else { errors.append(errorBox({ code: 'InvalidTargets', message: 'Name instance ids, a tag key=value or a resource group.' })); return; }
    send.disabled = true;
    try {
      const out = await call('SendCommand', input);
      location.hash = `#/command/${out.Command.CommandId}`;
    } catch (e) { errors.append(errorBox(e)); send.disabled = false; }
  }

  docSelect.addEventListener('change', () => pick().catch((e) => errors.append(errorBox(e))));
  root.append(h('h1', {}, 'Run Command'), errors, h('form', { id: 'run-form', onsubmit: submit },
    h('label', {}, 'Document ', docSelect), paramsBox,
    h('fieldset', {}, h('legend', {}, 'Targets'), h('label', {}, 'Instance ids ', ids), h('label', {}, 'or tag ', tag), h('label', {}, 'or resource group ', group)),
    h('fieldset', {}, h('legend', {}, 'Rate control'), h('label', {}, 'Max concurrency ', conc), h('label', {}, 'Max errors ', errs)),
    send, reason));
  const names = await commandDocuments();
  docSelect.replaceChildren(...names.map((n) => h('option', { value: n, selected: n === 'AWS-RunShellScript' }, n)));
  await pick();
}

export async function commandView(root, id) {
  const summary = h('p', { id: 'command-summary' });
  const table = h('table', { id: 'command-nodes' });
  const errors = h('div');
  root.append(h('p', {}, h('a', { href: '#/commands' }, '← Command history')), h('h1', {}, `Command ${id}`), summary, errors, table);
  for (;;) {
    if (!root.isConnected) return;
    try {
      const [cmds, invs] = await Promise.all([
        call('ListCommands', { CommandId: id }),
        call('ListCommandInvocations', { CommandId: id, Details: true }),
      ]);
      const c = (cmds.Commands || [])[0];
      errors.replaceChildren();
      if (c) {
        summary.className = `status-${c.Status}`;
        summary.textContent = `${c.DocumentName}: ${c.Status} — ${c.CompletedCount} of ${c.TargetCount} done, ${c.ErrorCount} error(s); requested ${localTime(c.RequestedDateTime)}`;
      }
      const rows = invs.CommandInvocations || [];
      table.replaceChildren(h('thead', {}, h('tr', {}, ...['Node', 'Status', 'Output'].map((x) => h('th', {}, x)))),
        h('tbody', {}, ...rows.map((i) => h('tr', { 'data-instance': i.InstanceId },
          h('td', {}, h('a', { href: `#/node/${i.InstanceId}` }, i.InstanceId)),
          h('td', { class: `status-${i.Status}` }, i.StatusDetails || i.Status),
          h('td', {}, ...(i.CommandPlugins || []).map((p) => plugin(id, i.InstanceId, p)))))));
      if (c && TERMINAL.includes(c.Status) && rows.every((i) => TERMINAL.includes(i.Status))) return;
    } catch (e) {
      if (e.status === 401) throw e;
      errors.replaceChildren(errorBox(e));
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** One step's output as the API gives it (its first 2,500 characters), with buttons that
 * show the whole stdout or stderr and offer it as a file. */
function plugin(commandId, instanceId, p) {
  const pre = h('pre', { class: 'output' }, p.Output || '');
  const links = h('div', { class: 'output-links' });
  for (const stream of ['stdout', 'stderr']) {
    links.append(h('button', { type: 'button', class: `whole-${stream}`, onclick: async (ev) => {
      ev.target.disabled = true;
      try {
        const text = await commandOutput({ CommandId: commandId, InstanceId: instanceId, Step: p.Name, Stream: stream });
        pre.textContent = text;
        const file = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
        links.append(h('a', { href: file, download: `${commandId}-${instanceId}-${p.Name}-${stream}.txt`, class: `download-${stream}` }, `Download ${stream}`), ' ');
      } catch (e) { links.append(errorBox(e)); }
    } }, `Whole ${stream}`), ' ');
  }
  return h('div', {}, pre, links);
}

export async function historyView(root) {
  const table = h('table', { id: 'command-history' });
  const more = h('button', { type: 'button', id: 'history-more', hidden: true }, 'More');
  const body = h('tbody');
  table.append(h('thead', {}, h('tr', {}, ...['Command', 'Document', 'Status', 'Targets', 'Requested'].map((x) => h('th', {}, x)))), body);
  root.append(h('h1', {}, 'Command history'), table, more);
  let token;
  async function load() {
    const input = { MaxResults: 50 };
    if (token) input.NextToken = token;
    const out = await call('ListCommands', input);
    body.append(...(out.Commands || []).map((c) => h('tr', {},
      h('td', {}, h('a', { href: `#/command/${c.CommandId}` }, c.CommandId)), h('td', {}, c.DocumentName),
      h('td', { class: `status-${c.Status}` }, c.Status), h('td', {}, `${c.CompletedCount}/${c.TargetCount}`),
      h('td', {}, localTime(c.RequestedDateTime)))));
    token = out.NextToken; more.hidden = !token;
  }
  more.addEventListener('click', () => load().catch((e) => root.append(errorBox(e))));
  await load();
}
