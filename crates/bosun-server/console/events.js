// Bosun console: Events — the default bus's rules and their targets, SNS topics and their
// subscriptions (SNS's own API), the latest events Bosun emitted in the region
// (BosunEvents.ListEvents), SNS deliveries whose retries ran out, sent again from the page
// (BosunEvents.RedriveFailedDeliveries), and rule targets an event could not be delivered to,
// redriven with the target as it is now (BosunEvents.RedriveFailedInvocations).
import { call, sns, h, errorBox, guard, localTime, table } from './api.js';

const RECENT = 50;

async function section(root, title, id, work) {
  const box = h('section', { id, 'aria-busy': 'true' }, h('h2', {}, title));
  root.append(box);
  try { await work(box); } catch (e) { if (e.status === 401) throw e; box.append(errorBox(e)); }
  box.setAttribute('aria-busy', 'false');
}

async function rules(box) {
  const out = await call('AWSEvents.ListRules', { Limit: 100 });
  const list = out.Rules || [];
  if (!list.length) { box.append(h('p', { class: 'muted' }, 'No rules on the default bus.')); return; }
  const rows = await Promise.all(list.map(async (r) => {
    const targets = await call('AWSEvents.ListTargetsByRule', { Rule: r.Name }).then((t) => t.Targets || [], () => []);
    return h('tr', { 'data-rule': r.Name },
      h('td', {}, r.Name), h('td', { class: r.State === 'ENABLED' ? 'status-Success' : 'status-Inactive' }, r.State),
      h('td', {}, h('code', {}, r.EventPattern || '')),
      h('td', {}, targets.length ? targets.map((t) => t.Arn.split(':').pop()).join(', ') : h('span', { class: 'muted' }, 'none')));
  }));
  box.append(table({ id: 'events-rules' }, ['Rule', 'State', 'Pattern', 'Targets (topics)'], rows));
}

/** The text of each `name` element under `node`. */
function texts(node, name) {
  return [...node.getElementsByTagName(name)].map((e) => e.textContent);
}

async function topics(box) {
  const name = h('input', { id: 'topic-name', size: 30, placeholder: 'e.g. ops-alerts' });
  const create = h('button', { type: 'submit', id: 'topic-create' }, 'Create topic');
  const errors = h('div');
  const list = h('div', { id: 'topics-list' });
  async function load() {
    const arns = [];
    let token;
    do {
      const doc = await sns('ListTopics', token ? { NextToken: token } : {});
      arns.push(...texts(doc, 'TopicArn'));
      token = texts(doc, 'NextToken')[0];
    } while (token && arns.length < 500);
    if (!arns.length) { list.replaceChildren(h('p', { class: 'muted' }, 'No topics.')); return; }
    const rows = await Promise.all(arns.map(async (arn) => {
      const doc = await sns('ListSubscriptionsByTopic', { TopicArn: arn });
      const subs = [...doc.getElementsByTagName('member')].map((m) => ({
        protocol: texts(m, 'Protocol')[0] || '', endpoint: texts(m, 'Endpoint')[0] || '', arn: texts(m, 'SubscriptionArn')[0] || '',
      }));
      return h('tr', { 'data-topic': arn.split(':').pop() },
        h('td', {}, arn.split(':').pop()), h('td', {}, h('code', {}, arn)),
        h('td', {}, subs.length ? h('ul', {}, ...subs.map((x) => h('li', {}, `${x.protocol} ${x.endpoint}`,
          x.arn === 'PendingConfirmation' ? h('span', { class: 'reason' }, ' (pending confirmation)') : null)))
          : h('span', { class: 'muted' }, 'none')));
    }));
    list.replaceChildren(table({ id: 'topics-table' }, ['Topic', 'ARN', 'Subscriptions'], rows));
  }
  const form = h('form', { class: 'filters', onsubmit: async (ev) => {
    ev.preventDefault(); errors.replaceChildren();
    create.disabled = true;
    try { await sns('CreateTopic', { Name: name.value.trim() }); name.value = ''; await load(); } catch (e) { errors.append(errorBox(e)); }
    create.disabled = false;
  } }, h('label', {}, 'Name ', name), create);
  box.append(list, form, errors,
    h('p', { class: 'hint' }, 'Subscribe endpoints and set templates with aws sns (see the README); a rule reaches people through a topic.'));
  await load();
}

/** A line of an event's facts, as `bosun events tail` prints them. */
function facts(envelope) {
  const d = envelope.detail || {};
  return ['status', 'document-name', 'instance-id', 'command-id', 'name', 'operation', 'Status', 'AutomationExecutionId', 'StepName', 'window-id']
    .filter((k) => typeof d[k] === 'string').map((k) => `${k}=${d[k]}`).join(' ');
}

async function recent(box) {
  const pattern = h('textarea', { id: 'events-pattern', rows: 2, cols: 70, class: 'code', placeholder: '{"detail":{"status":["Failed"]}}  (optional)' });
  const apply = h('button', { type: 'button', id: 'events-apply' }, 'Show');
  const errors = h('div');
  const body = h('tbody');
  const list = table({ id: 'events-recent' }, ['Time', 'Type', 'Facts', 'Event'], []);
  list.querySelector('tbody').replaceWith(body);
  async function load() {
    errors.replaceChildren();
    const input = { MaxResults: RECENT };
    if (pattern.value.trim()) input.EventPattern = pattern.value.trim();
    const out = await call('BosunEvents.ListEvents', input);
    const events = (out.Events || []).slice().reverse();
    body.replaceChildren(...events.map((e) => {
      let envelope = {};
      try { envelope = JSON.parse(e.Event); } catch { envelope = {}; }
      return h('tr', { 'data-seq': String(e.Seq) },
        h('td', {}, localTime(e.Time)), h('td', {}, e.DetailType), h('td', {}, facts(envelope)),
        h('td', {}, h('details', {}, h('summary', {}, 'JSON'), h('pre', {}, JSON.stringify(envelope, null, 2)))));
    }));
    if (!events.length) body.append(h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'No events.')));
  }
  apply.addEventListener('click', () => load().catch((e) => errors.append(errorBox(e))));
  box.append(h('p', { class: 'hint' }, `The latest ${RECENT} events Bosun emitted in this region, whether or not a rule matched them; a pattern (EventBridge's language) narrows them.`),
    h('label', {}, 'Pattern', h('br'), pattern), ' ', apply, errors, list);
  await load();
}

async function failed(box) {
  const out = await call('BosunEvents.ListFailedDeliveries', {});
  const list = out.Deliveries || [];
  if (!list.length) { box.append(h('p', { class: 'muted', id: 'events-failed-none' }, 'No failed deliveries.')); return; }
  const topics = [...new Set(list.map((d) => d.TopicArn.split(':').pop()))];
  const errors = h('div');
  const buttons = [];
  for (const topic of topics) {
    const redrive = h('button', { type: 'button', 'data-topic': topic }, `Send ${topic}'s again`);
    const why = h('span', { class: 'reason' });
    redrive.addEventListener('click', async () => {
      redrive.disabled = true; redrive.dataset.busy = '1';
      try {
        const done = await call('BosunEvents.RedriveFailedDeliveries', { TopicName: topic });
        why.textContent = `${done.Redriven} sent again.`;
      } catch (e) { errors.append(errorBox(e)); delete redrive.dataset.busy; redrive.disabled = false; }
    });
    buttons.push(h('span', {}, redrive, why, ' '));
    guard(redrive, why, 'BosunEvents.RedriveFailedDeliveries', { TopicName: topic }, `send ${topic}'s deliveries again`).catch(() => {});
  }
  box.append(table({ id: 'events-failed' }, ['Published', 'Topic', 'Endpoint', 'Attempts', 'Last error', 'Message'], list.map((d) => h('tr', {},
    h('td', {}, localTime(d.PublishedTime)), h('td', {}, d.TopicArn.split(':').pop()), h('td', {}, `${d.Protocol || ''} ${d.Endpoint || ''}`),
    h('td', {}, String(d.Attempts)), h('td', { class: 'status-Failed' }, d.LastError || ''), h('td', {}, d.Message)))),
  h('p', {}, ...buttons), errors);
}

async function invocations(box) {
  const out = await call('BosunEvents.ListFailedInvocations', {});
  const list = out.Invocations || [];
  if (!list.length) { box.append(h('p', { class: 'muted', id: 'events-invocations-none' }, 'No failed rule invocations.')); return; }
  const errors = h('div');
  const buttons = [];
  for (const rule of [...new Set(list.map((f) => f.RuleName))]) {
    const redrive = h('button', { type: 'button', 'data-rule': rule }, `Redrive ${rule}'s`);
    const why = h('span', { class: 'reason' });
    redrive.addEventListener('click', async () => {
      redrive.disabled = true; redrive.dataset.busy = '1';
      try {
        const done = await call('BosunEvents.RedriveFailedInvocations', { RuleName: rule });
        why.textContent = `${done.Redriven} delivered, ${done.StillFailing} still failing.`;
      } catch (e) { errors.append(errorBox(e)); }
      delete redrive.dataset.busy; redrive.disabled = false;
    });
    buttons.push(h('span', {}, redrive, why, ' '));
    guard(redrive, why, 'BosunEvents.RedriveFailedInvocations', { RuleName: rule }, `redrive ${rule}'s failed invocations`).catch(() => {});
  }
  box.append(h('p', { class: 'hint' }, 'Events a rule matched whose body could not be made for a target (an input transformer rendering text that is not JSON, say). Fix the target, then redrive: the body is made again with the target as it is now.'),
    table({ id: 'events-invocations' }, ['Failed', 'Rule', 'Target', 'Event', 'Redrives', 'Error'], list.map((f) => h('tr', { 'data-failure': f.FailureId },
      h('td', {}, localTime(f.FailedTime)), h('td', {}, f.RuleName), h('td', {}, f.TargetId), h('td', {}, f.DetailType || f.EventId),
      h('td', {}, String(f.Attempts)), h('td', { class: 'status-Failed' }, f.Error)))),
    h('p', {}, ...buttons), errors);
}

/** `#/events`: rules, recent events, failed deliveries and rule invocations. */
export async function eventsView(root) {
  root.append(h('h1', {}, 'Events'));
  await section(root, 'Rules', 'events-rules-box', rules);
  await section(root, 'Topics', 'events-topics-box', topics);
  await section(root, 'Recent events', 'events-recent-box', recent);
  await section(root, 'Failed deliveries', 'events-failed-box', failed);
  await section(root, 'Failed rule invocations', 'events-invocations-box', invocations);
}
