// The page's lease tables (runs in the browser): expired and quarantined
// allocations and stranded containers from GET /overlay-master/leases,
// refetched after watch events (coalesced) and when the earliest quarantine
// ends. Rows come from leases-model.ts; API text goes in through text nodes only.

import type { LeasesView } from '../api/types.js';
import { formatTime, heldRows, nextRefreshMs, strandedRows } from './leases-model.js';
import { coalesced } from './refetch.js';

function el(tag: string, attrs: Record<string, string>, ...children: (Node | string)[]): HTMLElement {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(typeof c === 'string' ? document.createTextNode(c) : c);
  return node;
}

const td = (label: string, ...children: (Node | string)[]): HTMLElement => el('td', { 'data-label': label }, ...children);
const mono = (values: string[]): (Node | string)[] => (values.length ? values.map((v) => el('span', { class: 'mono overlay' }, v)) : ['—']);

function fillTable(id: string, rows: HTMLElement[], empty: string): void {
  const table = document.getElementById(id);
  if (!table) return;
  table.querySelector('tbody')!.replaceChildren(...rows);
  const note = document.getElementById(`${id}-empty`);
  if (note) {
    note.textContent = empty;
    note.hidden = rows.length > 0;
  }
}

export function renderLeases(view: LeasesView | undefined): void {
  const held = view ? heldRows(view) : [];
  fillTable(
    'held',
    held.map((h) =>
      el(
        'tr',
        { 'data-agent': h.ip, 'data-kind': h.kind },
        td('Agent IP', h.ip),
        td('State', el('span', { class: `lease-${h.kind}` }, h.kindText), ` (epoch ${h.epoch})`),
        td('Expired at', formatTime(h.expiredAt)),
        td('Quarantined until', formatTime(h.until)),
        td('VTEP', ...mono(h.vtep)),
        td('Subnets held', ...mono(h.subnets)),
      ),
    ),
    view ? 'None: every agent that holds an allocation is renewing its lease.' : 'Loading…',
  );
  const stranded = view ? strandedRows(view) : [];
  fillTable(
    'stranded',
    stranded.map((s) =>
      el(
        'tr',
        { 'data-agent': s.agent },
        td('Agent', s.agent),
        td('Container', el('span', { class: 'mono' }, s.container)),
        td('Network', s.network),
        td('Address', el('span', { class: 'mono' }, s.address)),
      ),
    ),
    view ? 'None: no container is left on an address its agent no longer holds.' : 'Loading…',
  );
}

// A timer for the next quarantine end (it sends no watch event).
let timer: ReturnType<typeof setTimeout> | undefined;
export const refreshLeases = coalesced(async () => {
  const res = await fetch('/overlay-master/leases', { headers: { accept: 'application/json' }, cache: 'no-store' });
  if (!res.ok) return;
  const view = (await res.json()) as LeasesView;
  renderLeases(view);
  clearTimeout(timer);
  const wait = nextRefreshMs(view, Date.now());
  timer = wait === undefined ? undefined : setTimeout(() => void refreshLeases(), wait);
});
