// Bosun console: Maintenance Windows — the coming two weeks' runs as a calendar in the browser's
// time zone, the windows, and one window's targets, tasks and executions, down to each task's
// outcome per node with the reason a node did not run.
import { call, h, errorBox, localTime, table, pager } from './api.js';

const DAYS = 14;
const DAY_MS = 24 * 3600 * 1000;
const MAX_WINDOWS = 50;

async function allWindows() {
  const list = [];
  let token;
  do {
    const input = { MaxResults: 50 };
    if (token) input.NextToken = token;
    const out = await call('DescribeMaintenanceWindows', input);
    list.push(...(out.WindowIdentities || []));
    token = out.NextToken;
  } while (token && list.length < MAX_WINDOWS);
  return list;
}

/** Each window's runs from now to `until`, merged in time order. */
async function upcoming(windows, until) {
  const runs = [];
  await Promise.all(windows.filter((w) => w.Enabled).map(async (w) => {
    let token;
    do {
      const input = { WindowId: w.WindowId, MaxResults: 100 };
      if (token) input.NextToken = token;
      const out = await call('DescribeMaintenanceWindowSchedule', input);
      const page = (out.ScheduledWindowExecutions || []).map((s) => ({ ...s, at: new Date(s.ExecutionTime) }));
      runs.push(...page.filter((s) => s.at < until));
      token = page.length && page[page.length - 1].at < until ? out.NextToken : undefined;
    } while (token);
  }));
  return runs.sort((a, b) => a.at - b.at);
}

/** A 7-column calendar of the next `DAYS` days, starting today (local dates). */
function calendar(runs) {
  const start = new Date(); start.setHours(0, 0, 0, 0);
  const cells = [];
  for (let i = 0; i < DAYS; i++) {
    // Calendar days, not 24-hour steps: a daylight-saving change keeps days at midnight.
    const day = new Date(start); day.setDate(start.getDate() + i);
    const next = new Date(day); next.setDate(day.getDate() + 1);
    const todays = runs.filter((r) => r.at >= day && r.at < next);
    cells.push(h('div', { class: 'day', 'data-date': day.toDateString() },
      h('div', { class: 'day-head' }, day.toLocaleDateString(undefined, { weekday: 'short', month: 'short', day: 'numeric' })),
      ...todays.map((r) => h('div', { class: 'run', 'data-window': r.WindowId },
        h('span', { class: 'muted' }, r.at.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })), ' ',
        h('a', { href: `#/window/${r.WindowId}` }, r.Name || r.WindowId)))));
  }
  return h('div', { class: 'calendar', id: 'mw-calendar' }, ...cells);
}

/** `#/windows`: the calendar and the windows. */
export async function windowsView(root) {
  const windows = await allWindows();
  const until = new Date(Date.now() + DAYS * DAY_MS);
  const runs = await upcoming(windows, until);
  root.append(h('h1', {}, 'Maintenance Windows'),
    h('h2', {}, `Coming runs (${DAYS} days, your time zone)`), calendar(runs),
    h('h2', {}, 'Windows'),
    windows.length ? table({ id: 'mw-table' }, ['Window', 'Schedule', 'Time zone', 'Duration', 'Cutoff', 'Enabled', 'Next run'],
      windows.map((w) => h('tr', { 'data-window': w.WindowId },
        h('td', {}, h('a', { href: `#/window/${w.WindowId}` }, w.Name || w.WindowId)), h('td', {}, h('code', {}, w.Schedule || '')),
        h('td', {}, w.ScheduleTimezone || 'UTC'), h('td', {}, `${w.Duration} h`), h('td', {}, `${w.Cutoff} h`),
        h('td', {}, w.Enabled ? 'yes' : 'no'), h('td', {}, w.NextExecutionTime ? new Date(w.NextExecutionTime).toLocaleString() : ''))))
      : h('p', { class: 'muted' }, 'No maintenance windows.'));
}

/** The node an invocation ran on: AWS gives no field of its own for it, but a Run Command
 * invocation's Parameters are the command sent, with its instanceIds. */
function nodeOf(invocation) {
  try { return (JSON.parse(invocation.Parameters || '{}').instanceIds || [])[0] || ''; } catch { return ''; }
}

async function showExecution(box, executionId) {
  box.replaceChildren(h('h2', {}, `Execution ${executionId}`), h('p', { class: 'muted' }, 'Loading…'));
  const out = await call('DescribeMaintenanceWindowExecutionTasks', { WindowExecutionId: executionId });
  const parts = [h('h2', {}, `Execution ${executionId}`)];
  for (const t of out.WindowExecutionTaskIdentities || []) {
    const inv = await call('DescribeMaintenanceWindowExecutionTaskInvocations', { WindowExecutionId: executionId, TaskId: t.TaskExecutionId });
    const rows = inv.WindowExecutionTaskInvocationIdentities || [];
    parts.push(h('section', { class: 'mw-task', 'data-task': t.TaskExecutionId },
      h('h3', {}, `${t.TaskType} ${t.TaskArn} `, h('span', { class: `status-${t.Status}` }, t.Status)),
      t.StatusDetails ? h('p', {}, t.StatusDetails) : null,
      rows.length ? table({ class: 'mw-invocations' }, ['Node', 'Status', 'Why', 'Command', 'Started', 'Ended'],
        rows.map((i) => h('tr', { 'data-node': nodeOf(i) },
          h('td', {}, nodeOf(i) ? h('a', { href: `#/node/${nodeOf(i)}` }, nodeOf(i)) : (i.WindowTargetId || '')),
          h('td', { class: `status-${i.Status}` }, i.Status), h('td', {}, i.StatusDetails || ''),
          h('td', {}, i.ExecutionId && t.TaskType === 'RUN_COMMAND' ? h('a', { href: `#/command/${i.ExecutionId}` }, i.ExecutionId)
            : i.ExecutionId && t.TaskType === 'AUTOMATION' ? h('a', { href: `#/execution/${i.ExecutionId}` }, i.ExecutionId) : (i.ExecutionId || '')),
          h('td', {}, localTime(i.StartTime)), h('td', {}, localTime(i.EndTime)))))
        : h('p', { class: 'muted' }, 'No node was invoked.')));
  }
  box.replaceChildren(...parts);
}

/** `#/window/<id>`: the window, its targets and tasks, and its executions. */
export async function windowView(root, id) {
  const w = await call('GetMaintenanceWindow', { WindowId: id });
  const [targets, tasks] = await Promise.all([
    call('DescribeMaintenanceWindowTargets', { WindowId: id, MaxResults: 100 }),
    call('DescribeMaintenanceWindowTasks', { WindowId: id, MaxResults: 100 }),
  ]);
  const detail = h('section', { id: 'mw-execution' });
  const errors = h('div');
  const body = h('tbody');
  const execs = table({ id: 'mw-exec-table' }, ['Execution', 'Status', 'Details', 'Started', 'Ended'], []);
  execs.querySelector('tbody').replaceWith(body);
  const paging = pager(async (token) => {
    const input = { WindowId: id, MaxResults: 20 };
    if (token) input.NextToken = token;
    const out = await call('DescribeMaintenanceWindowExecutions', input);
    body.replaceChildren(...(out.WindowExecutions || []).map((x) => h('tr', { 'data-execution': x.WindowExecutionId },
      h('td', {}, h('button', { type: 'button', class: 'linklike', onclick: () => showExecution(detail, x.WindowExecutionId).catch((e) => detail.append(errorBox(e))) }, x.WindowExecutionId)),
      h('td', { class: `status-${x.Status}` }, x.Status), h('td', {}, x.StatusDetails || ''),
      h('td', {}, localTime(x.StartTime)), h('td', {}, localTime(x.EndTime)))));
    if (!body.children.length) body.append(h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'No executions yet.')));
    return out.NextToken;
  }, (e) => errors.append(errorBox(e)), 'mw-exec');
  const targetText = (t) => (t.Targets || []).map((x) => `${x.Key}=${(x.Values || []).join(',')}`).join('; ');
  root.append(h('p', {}, h('a', { href: '#/windows' }, '← Maintenance Windows')), h('h1', {}, w.Name || id),
    h('dl', { class: 'kv', id: 'mw-definition' },
      h('dt', {}, 'Id'), h('dd', {}, h('code', {}, id)),
      h('dt', {}, 'Schedule'), h('dd', {}, h('code', {}, w.Schedule), ` (${w.ScheduleTimezone || 'UTC'})`),
      h('dt', {}, 'Duration / cutoff'), h('dd', {}, `${w.Duration} h, no new tasks in the last ${w.Cutoff} h`),
      h('dt', {}, 'Enabled'), h('dd', {}, w.Enabled ? 'yes' : 'no'),
      h('dt', {}, 'Next run'), h('dd', {}, w.NextExecutionTime ? new Date(w.NextExecutionTime).toLocaleString() : 'none')),
    h('h2', {}, 'Targets'),
    table({ id: 'mw-targets' }, ['Target', 'Name', 'Selects'], (targets.Targets || []).map((t) => h('tr', {},
      h('td', {}, h('code', {}, t.WindowTargetId)), h('td', {}, t.Name || ''), h('td', {}, targetText(t))))),
    h('h2', {}, 'Tasks'),
    table({ id: 'mw-tasks' }, ['Priority', 'Type', 'Task', 'Targets', 'Rate control'], (tasks.Tasks || []).map((t) => h('tr', {},
      h('td', {}, String(t.Priority)), h('td', {}, t.Type), h('td', {}, t.TaskArn), h('td', {}, targetText(t)),
      h('td', {}, `${t.MaxConcurrency || ''} / ${t.MaxErrors || ''}`)))),
    h('h2', {}, 'Executions'), errors, execs, paging.el, detail);
  await paging.reset();
}
