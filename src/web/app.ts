// The page's DOM glue (runs in the browser): fetch state and containers,
// follow the watch stream, render the model's rows. All API text goes in
// through textContent only: container ids come from agents.

import type { MasterState, WatchEvent } from '../api/types.js';
import {
  agentRows,
  agentText,
  applyWatchEvent,
  containerRows,
  containerText,
  filterRows,
  formatUtilisation,
  networkRows,
  networkText,
  parseRoute,
  type AgentRow,
  type ListedContainer,
  type NetworkRow,
  type Utilisation,
} from './model.js';
import { coalesced } from './refetch.js';
import { refreshUtilisation } from './utilisation.js';
import { refreshLeases } from './leases.js';
import { changesLeases } from './leases-model.js';

let state: MasterState | undefined;
let containers: ListedContainer[] = [];
let revision = 0;

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

type Child = Node | string;
function el(tag: string, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElement {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(typeof c === 'string' ? document.createTextNode(c) : c);
  return node;
}

/** A cell labelled with its column (shown as "Label: value" on narrow screens). */
function td(label: string, ...children: Child[]): HTMLElement {
  return el('td', { 'data-label': label }, ...children);
}

function statusBadge(status: string, text: string, error: string): HTMLElement {
  const mark = status === 'STATUS_OK' ? '✓' : status === 'STATUS_FAILED' ? '✗' : '…';
  const span = el('span', { class: `status-${text.toLowerCase()}` }, `${mark} ${text}`);
  return error ? el('span', {}, span, el('span', { class: 'error' }, `error: ${error}`)) : span;
}

function utilisationCell(u: Utilisation | undefined, family: string): HTMLElement | string {
  if (!u) return '';
  const meter = el('meter', { min: '0', max: '1', value: String(u.total > 0n ? u.used / Number(u.total) : 0), 'aria-hidden': 'true' });
  return el('span', { class: 'overlay' }, `${family} ${formatUtilisation(u)}`, meter);
}

function fill(table: string, rows: HTMLElement[], empty: string): void {
  const tbody = $(table).querySelector('tbody')!;
  tbody.replaceChildren(...rows);
  const note = $(table).closest('section')!.querySelector<HTMLElement>(':scope > p.empty')!;
  note.textContent = empty;
  note.hidden = rows.length > 0 || empty === '';
}

const noAgentsHint = (): string =>
  `No agents have registered yet: start \`vxnet agent --master ${location.origin} --ip AGENT_IP\` on each host.`;

function renderNetworks(): void {
  const all = state ? networkRows(state, containers) : [];
  const query = $<HTMLInputElement>('filter-networks').value;
  const rows = filterRows(all, query, networkText).map((r: NetworkRow) =>
    el(
      'tr',
      { 'data-network': r.name },
      td(
        'Name',
        el('a', { href: `#network/${encodeURIComponent(r.name)}` }, r.name),
        r.enabled ? '' : el('span', { class: 'disabled' }, ' (disabled)'),
      ),
      td('IPv4 subnet', el('span', { class: 'mono' }, r.subnet || '—')),
      td('IPv6 subnet', el('span', { class: 'mono' }, r.subnet6 || '—')),
      td('Agent prefix', r.prefix),
      td('Agents', String(r.agents)),
      td('Subnets used', utilisationCell(r.v4, 'IPv4'), utilisationCell(r.v6, 'IPv6')),
      td('Containers', String(r.containers)),
    ),
  );
  fill('networks', rows, !state ? 'Loading…' : query ? `No network matches “${query}”. Clear the filter to see all.` : '');
}

function renderNetwork(name: string): void {
  const row = state ? networkRows(state, containers).find((r) => r.name === name) : undefined;
  $('h-network').textContent = `Network ${name}`;
  document.title = `${name} · vxnet networking`;
  const summary = $('network-summary');
  if (!row) {
    summary.replaceChildren(
      el('dt', {}, 'Not found'),
      el('dd', {}, state ? `No network named “${name}” is configured; pick one from All networks.` : 'Loading…'),
    );
  } else {
    const item = (k: string, v: Child) => [el('dt', {}, k), el('dd', {}, v)];
    summary.replaceChildren(
      ...item('IPv4 subnet', row.subnet || '—'),
      ...item('IPv6 subnet', row.subnet6 || '—'),
      ...item('Agent prefix', row.prefix),
      ...item('Subnets used', el('span', {}, utilisationCell(row.v4, 'IPv4'), utilisationCell(row.v6, 'IPv6'))),
      ...item('Enabled', row.enabled ? 'yes' : 'no: no new agent subnets are handed out'),
    );
  }
  const query = $<HTMLInputElement>('filter-containers').value;
  const rows = filterRows(containerRows(name, containers), query, containerText).map((c) =>
    el(
      'tr',
      {},
      td('Container', el('span', { class: 'mono' }, c.id), ...(c.name ? [' ', el('span', {}, c.name)] : [])),
      td('Runtime', c.runtime),
      td('IPv4', el('span', { class: 'mono' }, c.ip || '—')),
      td('IPv6', el('span', { class: 'mono' }, c.ip6 || '—')),
      td('Interface', c.interface || '—'),
      td('Agent', c.agent),
    ),
  );
  const empty = query
    ? `No container matches “${query}”. Clear the filter to see all.`
    : `No containers on ${name} yet: start one with \`vxnet container run NAME --network ${name}\` on an agent's host.`;
  fill('containers', rows, row ? empty : '');
  const holders = state
    ? agentRows(state, containers).flatMap((a) => a.overlays.filter((o) => o.name === name).map((o) => ({ a, o })))
    : [];
  $('network-agents')
    .querySelector('tbody')!
    .replaceChildren(
      ...holders.map(({ a, o }) =>
        el(
          'tr',
          {},
          td('Agent', a.ip),
          td('Subnet', o.subnet || '—'),
          td('IPv6 subnet', o.subnet6 || '—'),
          td('Status', statusBadge(o.status, o.statusText, o.error)),
        ),
      ),
    );
}

/** One line per non-empty value, or a dash. */
function lines(values: string[]): Child[] {
  const shown = values.filter((v) => v !== '');
  return shown.length ? shown.map((v) => el('span', { class: 'mono overlay' }, v)) : ['—'];
}

function renderAgents(): void {
  const query = $<HTMLInputElement>('filter-agents').value;
  const all = state ? agentRows(state, containers) : [];
  const rows = filterRows(all, query, agentText).map((a: AgentRow) =>
    el(
      'tr',
      { 'data-agent': a.ip },
      td('Agent IP', a.ip),
      td('VTEP IP', ...lines([a.vtepIp, a.vtepIp6])),
      td('VTEP MAC', el('span', { class: 'mono' }, a.vtepMac || '—')),
      td(
        'Overlays',
        ...a.overlays.map((o) =>
          el(
            'span',
            { class: 'overlay' },
            `${o.name} `,
            el('span', { class: 'mono' }, [o.subnet, o.subnet6].filter(Boolean).join(' ') || 'no subnet'),
            ' ',
            statusBadge(o.status, o.statusText, o.error),
          ),
        ),
      ),
      td('Containers', String(a.containers)),
    ),
  );
  fill(
    'agents',
    rows,
    !state ? 'Loading…' : all.length === 0 ? noAgentsHint() : query ? `No agent matches “${query}”. Clear the filter to see all.` : '',
  );
}

function render(): void {
  const route = parseRoute(location.hash);
  for (const view of ['networks', 'network', 'agents']) $(`view-${view}`).hidden = view !== route.view;
  const tab = route.view === 'agents' ? 'agents' : 'networks';
  for (const t of ['networks', 'agents']) {
    if (t === tab) $(`tab-${t}`).setAttribute('aria-current', 'page');
    else $(`tab-${t}`).removeAttribute('aria-current');
  }
  const hint = $('hint');
  hint.textContent = noAgentsHint();
  hint.hidden = !state || state.agents.length > 0 || route.view === 'agents';
  if (route.view === 'network') {
    renderNetwork(route.name);
    return;
  }
  document.title = 'vxnet networking';
  if (route.view === 'agents') renderAgents();
  else renderNetworks();
}

// Stream bursts (thousands of registrations) render once per frame, not once per event.
let renderQueued = false;
function scheduleRender(): void {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    render();
  });
}

function setConnection(kind: 'connecting' | 'live' | 'lost', text: string): void {
  const node = $('connection');
  node.dataset.state = kind;
  node.textContent = text;
}

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: { accept: 'application/json' }, cache: 'no-store' });
  if (!res.ok) throw new Error(`${path} answered ${res.status}`);
  return (await res.json()) as T;
}

// Container changes arrive as agent puts without the list: refetch, coalesced.
const refreshContainers = coalesced(async () => {
  containers = (await getJson<{ containers: ListedContainer[] }>('/overlay-master/containers')).containers;
  scheduleRender();
});

function onEvent(message: MessageEvent<string>): void {
  let event: WatchEvent;
  try {
    event = JSON.parse(message.data) as WatchEvent;
  } catch {
    return;
  }
  state = applyWatchEvent(state, event);
  revision = event.revision;
  setConnection('live', `Live · revision ${revision}`);
  scheduleRender();
  void refreshContainers();
  void refreshUtilisation(revision);
  if (changesLeases(event)) void refreshLeases();
}

// Every (re)connection starts without `since`, so the first event is a resync.
function watch(): void {
  const source = new EventSource('/overlay-master/watch');
  // `expired` (vxnet's) changes no agent row (its `delete` came first) but refetches the lease tables.
  for (const type of ['resync', 'put', 'delete', 'expired']) source.addEventListener(type, onEvent);
  source.onopen = () => setConnection('live', `Live${revision ? ` · revision ${revision}` : ''}`);
  source.onerror = () => {
    setConnection('lost', 'Connection to the master lost: reconnecting… (the tables show the last known state)');
    if (source.readyState === EventSource.CLOSED) setTimeout(watch, 2000);
  };
}

async function start(): Promise<void> {
  for (const id of ['filter-networks', 'filter-containers', 'filter-agents']) $(id).addEventListener('input', render);
  window.addEventListener('hashchange', () => {
    $<HTMLInputElement>('filter-containers').value = ''; // another network: start unfiltered
    render();
  });
  render();
  try {
    const [s, c] = await Promise.all([
      getJson<MasterState>('/overlay-master/state'),
      getJson<{ containers: ListedContainer[] }>('/overlay-master/containers'),
    ]);
    state ??= s;
    containers = c.containers;
  } catch {
    setConnection('lost', 'Cannot reach the master: retrying…');
  }
  render();
  void refreshUtilisation();
  void refreshLeases();
  watch();
}

void start();
