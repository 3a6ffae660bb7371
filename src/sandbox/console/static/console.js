// The sandbox console page: keeps the workspace picture the server streams (a snapshot, then every
// change), renders the current channel, and turns typing and clicks into requests to the console
// server, which signs them and delivers them to the bot like Slack would.
import { renderBlocks, renderMessage } from './blocks.js';
import { escapeHtml, renderPlain } from './mrkdwn.js';

const DEFAULT_USER = 'U0REQUEST';
const DEFAULT_CHANNEL = 'C0MLOPS';

/**
 * The README's demo story, step by step: a click switches to the right person and channel and fills
 * the composer; steps without text are clicks on the bot's buttons.
 */
const DEMO_STEPS = [
  { as: 'U0REQUEST', text: '/mlops status churn-endpoint', what: 'what the endpoint serves' },
  {
    as: 'U0REQUEST',
    text: '/mlops query churn-endpoint tenure=2 monthly_charges=95.5 contract=Month-to-month senior_citizen=1',
    what: 'ask the model',
  },
  { as: 'U0REQUEST', text: '/mlops drift', what: 'drift alert with its chart; press Retrain' },
  { as: 'U0APPROVE', channel: 'C0APPROVALS', what: 'approve the retraining' },
  {
    as: 'U0REQUEST',
    text: '/mlops rollout churn-endpoint churn_model 4 steps=25,50 every=1m analysis=demo',
    what: 'canary v4: send traffic first; a canary fault knob rolls it back',
  },
  { as: 'U0REQUEST', text: '/mlops promote churn_model 4 Challenger', what: 'the new version, then Apply' },
  { as: 'U0REQUEST', text: '/mlops promote churn_model 4 Champion', what: 'then Apply' },
  { as: 'U0REQUEST', text: '/mlops promote churn_model 4 Production', what: 'asks for approval' },
  { as: 'U0APPROVE', channel: 'C0APPROVALS', what: 'approve Production: it rolls out' },
  { as: 'U0REQUEST', text: '/mlops split churn-endpoint 4=90 2=10', what: 'keep 10% on v2, then Apply' },
  { as: 'U0REQUEST', text: '/mlops rollback churn-endpoint', what: 'undo the split, then Apply' },
  { as: 'U0VIEWER', text: '/mlops deploy churn_model 3', what: 'refused: vic has no rights' },
];

const params = new URLSearchParams(location.search);
const state = {
  view: undefined,
  viewer: params.get('user') || DEFAULT_USER,
  channel: params.get('channel') || DEFAULT_CHANNEL,
  expanded: new Set(),
  unread: new Map(),
  /** Page-only notices (a command Slack could not deliver), per channel: shown to this viewer only. */
  notices: new Map(),
  busy: new Set(),
  /** What was typed into input blocks, by message ts, block id and action id: survives re-rendering. */
  inputs: new Map(),
  history: [],
  historyAt: -1,
  /** The App Home is shown instead of a channel. */
  onHome: params.get('home') === '1',
  /** The option picked in each external select of the open modal: block|action → { value, label }. */
  picks: new Map(),
};
let stream;

const $ = (id) => document.getElementById(id);

function user(id) {
  return state.view?.users.find((u) => u.id === id);
}

const mentionNames = {
  userName: (id) => user(id)?.name,
  channelName: (id) => state.view?.channels.find((c) => c.id === id)?.name,
  groupHandle: (id) => state.view?.usergroups.find((g) => g.id === id)?.handle,
};

function currentChannel() {
  return state.view?.channels.find((c) => c.id === state.channel);
}

function rememberLocation() {
  const next = new URLSearchParams({
    user: state.viewer,
    channel: state.channel,
    ...(state.onHome ? { home: '1' } : {}),
  });
  history.replaceState(null, '', `?${next}`);
}

function byTs(a, b) {
  return Number(a.ts) - Number(b.ts);
}

function applyChange(change) {
  let list = state.view.messages[change.message.channel];
  if (!list && change.message.channel.startsWith('D')) {
    // A DM the bot opened after the snapshot: it appears under Direct messages.
    state.view.channels.push({
      id: change.message.channel,
      name: state.view.bot.name,
      topic: '',
      isPrivate: true,
      members: [state.view.bot.userId, state.viewer],
    });
    list = state.view.messages[change.message.channel] = [];
  }
  if (!list) return;
  const at = list.findIndex((m) => m.ts === change.message.ts);
  if (change.type === 'message_deleted') {
    if (at >= 0) list.splice(at, 1);
  } else if (at >= 0) {
    list[at] = change.message;
  } else {
    list.push(change.message);
    list.sort(byTs);
  }
  // A reply changes its parent's reply count; the parent's own update event may not come.
  const isNew = change.type === 'message_posted' || change.type === 'ephemeral_posted';
  if (isNew && change.message.channel !== state.channel && change.message.user !== state.viewer) {
    state.unread.set(change.message.channel, (state.unread.get(change.message.channel) ?? 0) + 1);
  }
}

function renderSidebar() {
  const view = state.view;
  $('workspace-name').textContent = view.team.name;
  const link = (c) => {
    const unread = state.unread.get(c.id) ?? 0;
    const member = c.members.includes(state.viewer);
    const classes = [
      'channel-link',
      c.id === state.channel && !state.onHome ? 'active' : '',
      unread > 0 ? 'unread' : '',
    ];
    return (
      `<li><button type="button" class="${classes.join(' ').trim()}" data-channel-id="${escapeHtml(c.id)}" data-channel-name="${escapeHtml(c.name)}">` +
      `<span class="hash">${c.isPrivate ? '🔒' : '#'}</span>${escapeHtml(c.name)}` +
      `${member ? '' : '<span class="not-member">not a member</span>'}` +
      `${unread > 0 ? `<span class="badge">${unread}</span>` : ''}</button></li>`
    );
  };
  const isDm = (c) => c.id.startsWith('D');
  $('channel-list').innerHTML = view.channels
    .filter((c) => !isDm(c))
    .map(link)
    .join('');
  // Only the viewer's own DMs with the app (Slack shows nobody else's).
  $('dm-list').innerHTML =
    view.channels
      .filter((c) => isDm(c) && c.members.includes(state.viewer))
      .map((c) => link({ ...c, name: view.bot.name }))
      .join('') || '<li class="empty-dm">No messages from the app yet.</li>';
  $('home-link').classList.toggle('active', state.onHome);
  $('user-switch').innerHTML = view.users
    .filter((u) => !u.isBot)
    .map((u) => {
      const pressed = u.id === state.viewer;
      return (
        `<button type="button" class="user-choice" data-switch-user="${escapeHtml(u.id)}" aria-pressed="${pressed}">` +
        `<span class="avatar">${escapeHtml(u.name.slice(0, 1).toUpperCase())}</span>` +
        `<span class="user-name">${escapeHtml(u.name)}</span>` +
        `<span class="persona">${escapeHtml(u.persona ?? u.groups.map((g) => `@${g}`).join(' '))}</span></button>`
      );
    })
    .join('');
  $('demo-steps').innerHTML = DEMO_STEPS.map((s, i) => {
    const who = s.as !== DEFAULT_USER ? ` (as ${escapeHtml(user(s.as)?.name ?? s.as)})` : '';
    const command = s.text ? `<code>${escapeHtml(s.text.replace(/^\/mlops /, ''))}</code>` : '';
    return (
      `<li><button type="button" class="demo-step" data-step="${i}">` +
      `${command}<span>${escapeHtml(s.what)}${who}</span></button></li>`
    );
  }).join('');
}

function renderChannel() {
  const channel = currentChannel();
  const container = $('messages');
  if (!channel) {
    container.innerHTML = '<div class="empty">No such channel.</div>';
    return;
  }
  $('channel-name').textContent = `${channel.isPrivate ? '🔒' : '#'} ${channel.name}`;
  $('channel-topic').textContent = channel.topic;
  const member = channel.members.includes(state.viewer);
  $('composer-input').disabled = !member;
  $('composer-send').disabled = !member;
  $('composer-note').textContent = member
    ? `You are ${user(state.viewer)?.name ?? state.viewer}. Commands go to the bot as signed Slack requests.`
    : `${user(state.viewer)?.name ?? state.viewer} is not a member of #${channel.name}: read only.`;
  $('composer-input').placeholder = member ? `/mlops help  ·  message #${channel.name}` : 'read only';

  const all = state.view.messages[channel.id] ?? [];
  const replies = new Map();
  const top = [];
  for (const m of all) {
    if (m.thread_ts && m.thread_ts !== m.ts) {
      if (!replies.has(m.thread_ts)) replies.set(m.thread_ts, []);
      replies.get(m.thread_ts).push(m);
    } else {
      top.push(m);
    }
  }
  const ctx = { ...mentionNames, user, isExpanded: (ts) => state.expanded.has(ts) };
  const items = top.map((m) => ({ ts: m.ts, html: renderMessage(m, replies.get(m.ts) ?? [], ctx) }));
  for (const n of state.notices.get(channel.id) ?? []) {
    items.push({
      ts: n.ts,
      html:
        '<div class="msg msg-ephemeral msg-notice"><div class="avatar avatar-bot">S</div><div class="msg-main">' +
        '<div class="msg-meta"><span class="msg-author">Slackbot</span></div>' +
        '<div class="ephemeral-note"><span aria-hidden="true">👁</span> Only visible to you</div>' +
        `<div class="msg-body"><div class="msg-text">${renderPlain(n.text, true)}</div></div></div></div>`,
    });
  }
  items.sort(byTs);
  const atBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 80;
  const focused = document.activeElement?.dataset?.inputAction ? inputKey(document.activeElement) : undefined;
  container.innerHTML =
    items.length > 0
      ? items.map((i) => i.html).join('')
      : `<div class="empty">Nothing in #${escapeHtml(channel.name)} yet. Type <code>/mlops help</code> below.</div>`;
  for (const button of container.querySelectorAll('button[data-action-id]')) {
    const ts = button.closest('[data-ts]')?.dataset.ts;
    if (state.busy.has(`${ts}:${button.dataset.actionId}`)) button.disabled = true;
  }
  for (const input of container.querySelectorAll('[data-input-action]')) {
    const key = inputKey(input);
    if (state.inputs.has(key)) input.value = state.inputs.get(key);
    if (key === focused) input.focus();
  }
  if (atBottom) container.scrollTop = container.scrollHeight;
}

function inputKey(input) {
  const ts = input.closest('[data-ts]')?.dataset.ts;
  return `${ts}|${input.dataset.inputBlock}|${input.dataset.inputAction}`;
}

/** The input blocks of the clicked message as Slack sends them: state.values[block][action]. */
function inputValues(messageElement) {
  const values = {};
  for (const input of messageElement.querySelectorAll(':scope > .msg-main > .msg-body [data-input-action]')) {
    const block = input.dataset.inputBlock;
    values[block] = { ...values[block], [input.dataset.inputAction]: input.value };
  }
  return values;
}

function renderHome() {
  const container = $('messages');
  $('channel-name').textContent = '⌂ modelgate · Home';
  $('channel-topic').textContent = 'The app’s Home tab, as Slack shows it to you';
  $('composer-input').disabled = true;
  $('composer-send').disabled = true;
  $('composer-note').textContent = 'The Home tab is the app’s own page: no messages here.';
  const home = state.view.home;
  container.innerHTML = home
    ? `<div class="home-view" data-view-id="${escapeHtml(home.id)}">${renderBlocks(home.blocks, mentionNames)}</div>`
    : '<div class="empty">Opening the Home tab… (the app publishes it)</div>';
}

/** The open modal as a dialog: its blocks, the app's field errors, Cancel and its submit button. */
function renderModal() {
  const dialog = $('modal-dialog');
  const modal = state.view.modal;
  if (!modal) {
    if (dialog.open) dialog.close();
    state.picks.clear();
    return;
  }
  const same = dialog.dataset.viewId === modal.id && dialog.dataset.hash === modal.hash && dialog.open;
  const typedNow = same ? modalValues() : undefined;
  dialog.dataset.viewId = modal.id;
  dialog.dataset.hash = modal.hash;
  $('modal-title').textContent = modal.title?.text ?? '';
  $('modal-close').textContent = modal.close?.text ?? 'Cancel';
  $('modal-submit').hidden = !modal.submit;
  $('modal-submit').textContent = modal.submit?.text ?? 'Submit';
  $('modal-body').innerHTML = renderBlocks(modal.blocks, mentionNames);
  for (const [block, text] of Object.entries(modal.errors ?? {})) {
    const el = $('modal-body').querySelector(`[data-block-id="${CSS.escape(block)}"]`);
    el?.insertAdjacentHTML(
      'beforeend',
      `<div class="blk-input-error" role="alert">${escapeHtml(text)}</div>`,
    );
  }
  // Typed text and picks survive a re-render (field errors, an update).
  for (const input of $('modal-body').querySelectorAll('[data-input-action]')) {
    const key = `${input.dataset.inputBlock}|${input.dataset.inputAction}`;
    const pick = state.picks.get(key);
    if (input.tagName === 'SELECT' && pick) {
      input.innerHTML += `<option value="${escapeHtml(pick.value)}">${escapeHtml(pick.label)}</option>`;
      input.value = pick.value;
    } else if (typedNow?.[input.dataset.inputBlock]?.[input.dataset.inputAction]?.value != null) {
      input.value = typedNow[input.dataset.inputBlock][input.dataset.inputAction].value;
    }
  }
  if (!dialog.open) dialog.showModal();
}

/** What the modal's inputs hold, as Slack sends them in `view.state.values`. */
function modalValues() {
  const values = {};
  for (const input of $('modal-body').querySelectorAll('[data-input-action]')) {
    const block = input.dataset.inputBlock;
    const action = input.dataset.inputAction;
    let value;
    if (input.tagName === 'SELECT') {
      const option = input.selectedOptions[0];
      value = {
        type: 'external_select',
        selected_option: option?.value
          ? { text: { type: 'plain_text', text: option.textContent }, value: option.value }
          : null,
      };
    } else {
      value = { type: 'plain_text_input', value: input.value === '' ? null : input.value };
    }
    values[block] = { ...values[block], [action]: value };
  }
  return values;
}

async function loadOptions(select) {
  const modal = state.view?.modal;
  if (!modal || select.dataset.loading) return;
  select.dataset.loading = '1';
  const result = await post('/console/api/options', {
    user: state.viewer,
    view_id: modal.id,
    block_id: select.dataset.inputBlock,
    action_id: select.dataset.inputAction,
    value: '',
    values: modalValues(),
  });
  delete select.dataset.loading;
  const current = select.value;
  const placeholder = select.options[0]?.outerHTML ?? '<option value="">Pick one</option>';
  select.innerHTML =
    placeholder +
    (result.options ?? [])
      .map((o) => `<option value="${escapeHtml(o.value)}">${escapeHtml(o.text?.text ?? o.value)}</option>`)
      .join('');
  if ([...select.options].some((o) => o.value === current)) select.value = current;
}

async function submitModal(event) {
  event.preventDefault();
  const modal = state.view?.modal;
  if (!modal) return;
  $('modal-submit').disabled = true;
  const result = await post('/console/api/submit', {
    user: state.viewer,
    view_id: modal.id,
    values: modalValues(),
  });
  $('modal-submit').disabled = false;
  if (!result.ok) notice(state.channel, `The form could not be sent: "${result.error}"`);
}

async function openHome() {
  state.onHome = true;
  rememberLocation();
  render();
  const result = await post('/console/api/home', { user: state.viewer });
  if (!result.ok) notice(state.channel, `The Home tab could not be opened: "${result.error}"`);
}

function render() {
  if (!state.view) return;
  if (!state.onHome) state.unread.delete(state.channel);
  renderSidebar();
  if (state.onHome) renderHome();
  else renderChannel();
  renderModal();
}

function notice(channel, text) {
  const list = state.notices.get(channel) ?? [];
  list.push({ ts: (Date.now() / 1000).toFixed(6), text });
  state.notices.set(channel, list);
  render();
}

function connect() {
  stream?.close();
  $('connection').textContent = 'connecting…';
  $('connection').classList.remove('live');
  stream = new EventSource(`/console/api/stream?user=${encodeURIComponent(state.viewer)}`);
  stream.addEventListener('snapshot', (e) => {
    state.view = JSON.parse(e.data);
    $('connection').textContent = 'live';
    $('connection').classList.add('live');
    document.body.dataset.viewer = state.viewer;
    render();
  });
  stream.addEventListener('change', (e) => {
    if (!state.view) return;
    applyChange(JSON.parse(e.data));
    render();
  });
  stream.addEventListener('view', (e) => {
    if (!state.view) return;
    const change = JSON.parse(e.data);
    if (change.type === 'home_published') state.view.home = change.view;
    else if (change.type === 'modal_closed') {
      if (state.view.modal?.id === change.viewId) delete state.view.modal;
    } else state.view.modal = change.view;
    render();
    if (state.onHome) void post('/console/api/home', { user: state.viewer });
  });
  stream.addEventListener('error', () => {
    $('connection').textContent = 'reconnecting…';
    $('connection').classList.remove('live');
  });
}

async function post(path, body) {
  try {
    const res = await fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return await res.json();
  } catch (e) {
    return { ok: false, error: `console_unreachable (${e.message})` };
  }
}

/** The sandbox's switches (traffic to the endpoint, faults of the canary in flight), beside the channels. */
function renderKnobs(knobs) {
  const list = $('knobs');
  if (!list) return;
  list.innerHTML = knobs
    .map(
      (k) =>
        `<label class="knob"><input type="checkbox" data-knob="${k.id}"${k.on ? ' checked' : ''}> ${k.label}</label>`,
    )
    .join('');
  $('knobs-section').hidden = knobs.length === 0;
}

async function loadKnobs() {
  try {
    const res = await fetch('/console/api/knobs');
    if (!res.ok) return;
    renderKnobs((await res.json()).knobs ?? []);
  } catch {
    // No knobs (a console without the sandbox's Databricks twin): the panel stays hidden.
  }
}

async function setKnob(input) {
  const answer = await post('/console/api/knobs', { id: input.dataset.knob, on: input.checked });
  if (answer.ok) renderKnobs(answer.knobs);
}

async function submitComposer(event) {
  event.preventDefault();
  const input = $('composer-input');
  const text = input.value.trim();
  if (!text) return;
  state.history.push(text);
  state.historyAt = -1;
  input.value = '';
  const channel = state.channel;
  if (text.startsWith('/')) {
    const [name, ...rest] = text.split(/\s+/);
    if (name !== '/mlops') {
      notice(channel, `${name} is not a valid command. In this sandbox, the app's command is /mlops.`);
      return;
    }
    const result = await post('/console/api/command', { user: state.viewer, channel, text: rest.join(' ') });
    if (!result.ok) notice(channel, `/mlops failed with the error "${result.error}"`);
    return;
  }
  const result = await post('/console/api/message', { user: state.viewer, channel, text });
  if (!result.ok) notice(channel, `Your message could not be sent: ${result.error}`);
}

function askConfirm(confirm) {
  const dialog = $('confirm-dialog');
  $('confirm-title').textContent = confirm.title?.text ?? 'Are you sure?';
  $('confirm-text').innerHTML = renderPlain(confirm.text?.text ?? '', true);
  $('confirm-ok').textContent = confirm.confirm?.text ?? 'Yes';
  $('confirm-deny').textContent = confirm.deny?.text ?? 'Cancel';
  $('confirm-ok').className = `btn ${confirm.style === 'danger' ? 'btn-danger' : 'btn-primary'}`;
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'confirm'), { once: true });
    dialog.returnValue = '';
    dialog.showModal();
  });
}

async function clickViewButton(button, viewId) {
  if (button.dataset.confirm && !(await askConfirm(JSON.parse(button.dataset.confirm)))) return;
  button.disabled = true;
  const body = { user: state.viewer, view_id: viewId, action_id: button.dataset.actionId };
  if (button.dataset.blockId) body.block_id = button.dataset.blockId;
  const result = await post('/console/api/view-action', body);
  button.disabled = false;
  if (!result.ok) notice(state.channel, `That button did not work: "${result.error}"`);
}

async function clickButton(button) {
  const inView = button.closest('[data-view-id]');
  if (inView) return clickViewButton(button, inView.dataset.viewId);
  const message = button.closest('[data-ts]');
  const ts = message?.dataset.ts;
  const channel = message?.dataset.channel;
  if (!ts || !channel) return;
  if (button.dataset.confirm && !(await askConfirm(JSON.parse(button.dataset.confirm)))) return;
  if (button.dataset.url) window.open(button.dataset.url, '_blank', 'noopener');
  const key = `${ts}:${button.dataset.actionId}`;
  state.busy.add(key);
  button.disabled = true;
  const body = {
    user: state.viewer,
    channel,
    ts,
    action_id: button.dataset.actionId,
    values: inputValues(message),
  };
  if (button.dataset.blockId) body.block_id = button.dataset.blockId;
  const result = await post('/console/api/action', body);
  state.busy.delete(key);
  if (!result.ok) notice(channel, `That button did not work: "${result.error}"`);
  else render();
}

function switchUser(id) {
  if (id === state.viewer) return;
  state.viewer = id;
  state.notices.clear();
  state.unread.clear();
  rememberLocation();
  connect();
}

function switchChannel(id) {
  state.onHome = false;
  state.channel = id;
  rememberLocation();
  render();
  $('composer-input').focus();
}

document.addEventListener('click', (event) => {
  const target = event.target instanceof Element ? event.target : undefined;
  const button = target?.closest('button');
  if (!button) return;
  if (button.dataset.actionId !== undefined) return void clickButton(button);
  if (button.dataset.thread) {
    const ts = button.dataset.thread;
    if (state.expanded.has(ts)) state.expanded.delete(ts);
    else state.expanded.add(ts);
    return void render();
  }
  if (button.dataset.home) return void openHome();
  if (button.id === 'modal-close') {
    const modal = state.view?.modal;
    if (modal) void post('/console/api/close', { user: state.viewer, view_id: modal.id });
    return;
  }
  if (button.dataset.switchUser) return void switchUser(button.dataset.switchUser);
  if (button.dataset.channelId) return void switchChannel(button.dataset.channelId);
  if (button.dataset.step) {
    const step = DEMO_STEPS[Number(button.dataset.step)];
    if (!step) return;
    if (step.as !== state.viewer) switchUser(step.as);
    switchChannel(step.channel ?? DEFAULT_CHANNEL);
    $('composer-input').value = step.text ?? '';
  }
});

// External selects load their options from the app when opened, as Slack's do.
document.addEventListener('focusin', (event) => {
  const el = event.target;
  if (el instanceof HTMLSelectElement && el.dataset.external) void loadOptions(el);
});
document.addEventListener('change', (event) => {
  const el = event.target;
  if (el instanceof HTMLSelectElement && el.dataset.external) {
    const option = el.selectedOptions[0];
    const key = `${el.dataset.inputBlock}|${el.dataset.inputAction}`;
    if (option?.value) state.picks.set(key, { value: option.value, label: option.textContent });
    else state.picks.delete(key);
  }
});
document.addEventListener('change', (event) => {
  const input = event.target;
  if (input instanceof HTMLInputElement && input.dataset.knob !== undefined) void setKnob(input);
});

document.addEventListener('input', (event) => {
  const input = event.target;
  if (input instanceof HTMLElement && input.dataset.inputAction !== undefined) {
    state.inputs.set(inputKey(input), input.value);
  }
});

document.addEventListener('DOMContentLoaded', () => {
  $('composer').addEventListener('submit', submitComposer);
  $('modal-form').addEventListener('submit', submitModal);
  // Escape closes a modal the way its Cancel does.
  $('modal-dialog').addEventListener('cancel', (event) => {
    event.preventDefault();
    const modal = state.view?.modal;
    if (modal) void post('/console/api/close', { user: state.viewer, view_id: modal.id });
  });
  $('composer-input').addEventListener('keydown', (event) => {
    if (event.key !== 'ArrowUp' && event.key !== 'ArrowDown') return;
    if (state.history.length === 0) return;
    event.preventDefault();
    const last = state.history.length - 1;
    if (event.key === 'ArrowUp')
      state.historyAt = state.historyAt < 0 ? last : Math.max(0, state.historyAt - 1);
    else state.historyAt = state.historyAt < 0 || state.historyAt >= last ? -1 : state.historyAt + 1;
    event.target.value = state.historyAt < 0 ? '' : state.history[state.historyAt];
  });
  rememberLocation();
  connect();
  void loadKnobs();
});
