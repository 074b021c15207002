// Bosun console: Automation — executions by status, and one execution as its steps in order with
// their inputs and outputs, approved or rejected from the page when a step waits for it.
import { call, h, errorBox, guard, localTime, table, pager } from './api.js';

const STATUSES = ['Pending', 'InProgress', 'Waiting', 'Success', 'TimedOut', 'Cancelling', 'Cancelled', 'Failed', 'PendingApproval', 'Approved', 'Rejected', 'Scheduled', 'RunbookInProgress', 'PendingChangeCalendarOverride', 'ChangeCalendarOverrideApproved', 'ChangeCalendarOverrideRejected', 'CompletedWithSuccess', 'CompletedWithFailure', 'Exited'];
const ENDED = ['Success', 'TimedOut', 'Cancelled', 'Failed', 'CompletedWithSuccess', 'CompletedWithFailure', 'Exited', 'Rejected'];
const REFRESH_MS = 2000;

/** `#/automation`: executions, newest first, filtered by status on the server. */
export async function automationView(root) {
  const status = h('select', { id: 'auto-status' }, h('option', { value: '' }, 'any'), ...STATUSES.map((s) => h('option', { value: s }, s)));
  const errors = h('div');
  const body = h('tbody');
  const list = table({ id: 'auto-table' }, ['Execution', 'Document', 'Status', 'Mode', 'Current step', 'Started', 'Ended', 'Executed by'], []);
  list.querySelector('tbody').replaceWith(body);
  const paging = pager(async (token) => {
    const input = { MaxResults: 25 };
    if (status.value) input.Filters = [{ Key: 'ExecutionStatus', Values: [status.value] }];
    if (token) input.NextToken = token;
    const out = await call('DescribeAutomationExecutions', input);
    body.replaceChildren(...(out.AutomationExecutionMetadataList || []).map((x) => h('tr', { 'data-execution': x.AutomationExecutionId },
      h('td', {}, h('a', { href: `#/execution/${x.AutomationExecutionId}` }, h('code', {}, x.AutomationExecutionId))),
      h('td', {}, x.DocumentName), h('td', { class: `status-${x.AutomationExecutionStatus}` }, x.AutomationExecutionStatus),
      h('td', {}, x.Mode || ''), h('td', {}, x.CurrentStepName || ''),
      h('td', {}, localTime(x.ExecutionStartTime)), h('td', {}, localTime(x.ExecutionEndTime)),
      h('td', {}, (x.ExecutedBy || '').split('/').pop()))));
    if (!body.children.length) body.append(h('tr', {}, h('td', { colspan: 8, class: 'muted' }, 'No executions.')));
    return out.NextToken;
  }, (e) => errors.append(errorBox(e)), 'auto');
  const form = h('form', { class: 'filters', onsubmit: (ev) => { ev.preventDefault(); errors.replaceChildren(); paging.reset().catch((e) => errors.append(errorBox(e))); } },
    h('label', {}, 'Status ', status), h('button', { type: 'submit', id: 'auto-filter' }, 'Apply'));
  root.append(h('h1', {}, 'Automation'), form, errors, list, paging.el);
  await paging.reset();
}

/** A value as the API gives it: lists joined, strings as they are (step inputs are JSON text). */
function text(v) {
  if (Array.isArray(v)) return v.join(', ');
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** A step input's JSON text as plain text when it is a JSON string. */
function plain(v) {
  try { const p = JSON.parse(v); return typeof p === 'string' ? p : v; } catch { return v; }
}

function values(map) {
  const entries = Object.entries(map || {});
  if (!entries.length) return h('span', { class: 'muted' }, 'none');
  return h('dl', { class: 'kv' }, ...entries.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, h('code', {}, text(v)))]));
}

/** One step as a node of the execution's graph: its status, action, times, inputs and outputs. */
function stepCard(s, i) {
  return h('li', { class: `step status-border-${s.StepStatus}`, 'data-step': s.StepName },
    h('div', { class: 'step-head' }, h('strong', {}, `${i + 1}. ${s.StepName}`), ' ', h('code', {}, s.Action),
      ' ', h('span', { class: `status-${s.StepStatus} step-status` }, s.StepStatus)),
    h('div', { class: 'muted' }, [localTime(s.ExecutionStartTime), localTime(s.ExecutionEndTime)].filter(Boolean).join(' → ')),
    s.FailureMessage ? h('div', { class: 'error' }, s.FailureMessage) : null,
    s.Response ? h('details', {}, h('summary', {}, 'Response'), h('code', {}, s.Response)) : null,
    h('details', {}, h('summary', {}, 'Inputs'), values(s.Inputs)),
    h('details', { open: Object.keys(s.Outputs || {}).length > 0 }, h('summary', {}, 'Outputs'), values(s.Outputs)));
}

/** The approval panel of a step waiting in aws:approve: Approve or Reject with a comment;
 * `sent()` is told once a decision was accepted. */
async function approvalPanel(execution, step, sent) {
  const comment = h('input', { id: 'exec-comment', size: 50, placeholder: 'comment (recorded with the decision)' });
  const approve = h('button', { type: 'button', id: 'exec-approve' }, 'Approve');
  const reject = h('button', { type: 'button', id: 'exec-reject' }, 'Reject');
  const why = h('span', { class: 'reason', id: 'exec-approve-reason' });
  const errors = h('div');
  const panel = h('section', { class: 'card attention', id: 'exec-approval' },
    h('h2', {}, `Step ${step.StepName} waits for an approval`),
    step.Inputs && step.Inputs.Message ? h('p', { id: 'exec-approval-message' }, plain(step.Inputs.Message)) : null,
    h('label', {}, 'Comment ', comment), approve, ' ', reject, why, errors);
  const send = async (type) => {
    approve.disabled = true; reject.disabled = true; approve.dataset.busy = '1'; reject.dataset.busy = '1';
    try {
      const input = { AutomationExecutionId: execution.AutomationExecutionId, SignalType: type };
      if (comment.value.trim()) input.Payload = { Comment: [comment.value.trim()] };
      await call('SendAutomationSignal', input);
      await sent();
    } catch (e) {
      errors.append(errorBox(e));
      delete approve.dataset.busy; delete reject.dataset.busy; approve.disabled = false; reject.disabled = false;
    }
  };
  approve.addEventListener('click', () => send('Approve'));
  reject.addEventListener('click', () => send('Reject'));
  await guard([approve, reject], why, 'SendAutomationSignal', { AutomationExecutionId: execution.AutomationExecutionId, SignalType: 'Approve' }, 'approve or reject this step');
  return panel;
}

/** `#/execution/<id>`: the execution and its steps, refreshed while it runs. */
export async function executionView(root, id) {
  const head = h('div'); const steps = h('ol', { class: 'steps', id: 'exec-steps' }); const extra = h('div');
  root.append(h('p', {}, h('a', { href: '#/automation' }, '← Automation')), h('h1', {}, h('code', {}, id)), head, extra, steps);
  let timer = null;
  // A decision was sent: the step still shows Waiting until the runtime acts on it, so the page
  // refreshes until it does instead of offering the panel again.
  let decided = false;
  async function load() {
    clearTimeout(timer);
    if (!root.isConnected && timer !== null) return;
    const { AutomationExecution: x } = await call('GetAutomationExecution', { AutomationExecutionId: id });
    const stop = h('button', { type: 'button', id: 'exec-stop' }, 'Stop');
    const stopWhy = h('span', { class: 'reason' });
    head.replaceChildren(...[
      h('p', { id: 'exec-status' }, h('span', { class: `status-${x.AutomationExecutionStatus}` }, x.AutomationExecutionStatus),
        ` — ${x.DocumentName} v${x.DocumentVersion}, ${x.Mode || 'Auto'} mode, started ${localTime(x.ExecutionStartTime)}`,
        x.ExecutionEndTime ? `, ended ${localTime(x.ExecutionEndTime)}` : '', ` by ${(x.ExecutedBy || '').split('/').pop()}`),
      x.FailureMessage ? h('div', { class: 'error' }, x.FailureMessage) : null,
      x.ParentAutomationExecutionId ? h('p', {}, 'Started by ', h('a', { href: `#/execution/${x.ParentAutomationExecutionId}` }, x.ParentAutomationExecutionId)) : null,
      h('details', {}, h('summary', {}, 'Parameters'), values(x.Parameters)),
      h('details', { open: Object.keys(x.Outputs || {}).length > 0 }, h('summary', {}, 'Outputs'), values(x.Outputs)),
      ENDED.includes(x.AutomationExecutionStatus) ? null : h('p', {}, stop, stopWhy)].filter(Boolean));
    stop.addEventListener('click', async () => {
      stop.disabled = true;
      try { await call('StopAutomationExecution', { AutomationExecutionId: id, Type: 'Cancel' }); await load(); } catch (e) { head.append(errorBox(e)); }
    });
    const list = x.StepExecutions || [];
    steps.replaceChildren(...list.map(stepCard));
    const waiting = list.find((s) => s.StepStatus === 'Waiting' && s.Action === 'aws:approve');
    if (!waiting) decided = false;
    extra.replaceChildren();
    if (waiting && decided) extra.append(h('p', { id: 'exec-decided' }, 'Your decision was sent; the execution goes on in a moment…'));
    else if (waiting) extra.append(await approvalPanel(x, waiting, async () => { decided = true; await load(); }));
    if (!ENDED.includes(x.AutomationExecutionStatus)) {
      await guard(stop, stopWhy, 'StopAutomationExecution', { AutomationExecutionId: id, Type: 'Cancel' }, 'stop this execution');
      // A waiting approval is not refreshed away under the user's typing; anything else is.
      if (!waiting || decided) timer = setTimeout(() => { if (root.isConnected) load().catch((e) => extra.append(errorBox(e))); }, REFRESH_MS);
    }
  }
  await load();
}
