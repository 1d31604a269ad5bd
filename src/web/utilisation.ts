// The page's utilisation table (runs in the browser): per pool, agent subnets
// or VTEP addresses held and free, and container addresses used and free,
// from GET /overlay-master/utilisation. Rows are pure (utilisationRows);
// rendering goes through text nodes only.

import type { UseCount, UtilisationView } from '../api/types.js';
import { coalesced } from './refetch.js';

export interface UtilisationRow {
  pool: string;
  family: string;
  range: string;
  blocks: UseCount;
  /** Held in quarantine (expired agents), part of `blocks.used`. */
  quarantined: number;
  /** Container addresses; undefined for the VTEP pool. */
  containers?: UseCount;
}

export function utilisationRows(view: UtilisationView): UtilisationRow[] {
  const rows: UtilisationRow[] = view.vtep.map((v) => ({
    pool: 'VTEP',
    family: `IPv${v.family}`,
    range: v.cidr,
    blocks: v,
    quarantined: 0,
  }));
  for (const o of view.overlays) {
    for (const f of o.families) {
      rows.push({
        pool: o.enabled ? o.name : `${o.name} (disabled)`,
        family: `IPv${f.family}`,
        range: `${f.cidr} /${f.prefix}`,
        blocks: f.subnets,
        quarantined: f.subnets.quarantined,
        containers: f.containers,
      });
    }
  }
  return rows;
}

/** "3 / 16 used (19%), 13 free". */
export const useText = (u: UseCount): string => `${u.used} / ${u.total} used (${u.percent}%), ${u.free} free`;

function el(tag: string, attrs: Record<string, string>, ...children: (Node | string)[]): HTMLElement {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(typeof c === 'string' ? document.createTextNode(c) : c);
  return node;
}

function bar(u: UseCount, extra = ''): HTMLElement {
  const level = u.percent >= 100 ? 'full' : u.percent >= 90 ? 'high' : u.percent >= 80 ? 'warn' : 'ok';
  const meter = el('meter', { min: '0', max: '100', low: '80', high: '90', optimum: '0', value: String(u.percent), 'aria-hidden': 'true' });
  return el('span', { class: `use use-${level}` }, `${useText(u)}${extra}`, meter);
}

/** One row per agent, overlay and family it holds a subnet of. */
export function agentUtilisationRows(view: UtilisationView): { agent: string; overlay: string; subnet: string; containers: UseCount }[] {
  return view.agents.flatMap((a) => a.overlays.map((o) => ({ agent: a.ip, overlay: o.name, subnet: o.subnet, containers: o.containers })));
}

function renderAgents(view: UtilisationView | undefined): void {
  const table = document.getElementById('agent-utilisation');
  if (!table) return;
  table
    .querySelector('tbody')!
    .replaceChildren(
      ...(view ? agentUtilisationRows(view) : []).map((r) =>
        el(
          'tr',
          { 'data-agent': r.agent },
          el('td', { 'data-label': 'Agent' }, r.agent),
          el('td', { 'data-label': 'Overlay' }, r.overlay),
          el('td', { 'data-label': 'Subnet' }, el('span', { class: 'mono' }, r.subnet)),
          el('td', { 'data-label': 'Container addresses' }, bar(r.containers)),
        ),
      ),
    );
}

export function renderUtilisation(view: UtilisationView | undefined): void {
  renderAgents(view);
  const table = document.getElementById('utilisation');
  if (!table) return;
  const rows = view ? utilisationRows(view) : [];
  table
    .querySelector('tbody')!
    .replaceChildren(
      ...rows.map((r) =>
        el(
          'tr',
          { 'data-pool': r.pool },
          el('td', { 'data-label': 'Pool' }, r.pool),
          el('td', { 'data-label': 'Family' }, r.family),
          el('td', { 'data-label': 'Range' }, el('span', { class: 'mono' }, r.range)),
          el(
            'td',
            { 'data-label': 'Agent subnets / VTEP addresses' },
            bar(r.blocks, r.quarantined > 0 ? `, ${r.quarantined} quarantined` : ''),
          ),
          el('td', { 'data-label': 'Container addresses' }, r.containers ? bar(r.containers) : '—'),
        ),
      ),
    );
}

// Refetched after watch events (coalesced). Under constant change a large cluster's master reuses a
// view for a while (it walks every agent), so an answer older than the newest event seen is asked
// for again a second later.
let wanted = 0;
let retry: ReturnType<typeof setTimeout> | undefined;
const fetchUtilisation = coalesced(async () => {
  const res = await fetch('/overlay-master/utilisation', { headers: { accept: 'application/json' }, cache: 'no-store' });
  if (!res.ok) return;
  const view = (await res.json()) as UtilisationView;
  renderUtilisation(view);
  if (view.revision < wanted && retry === undefined)
    retry = setTimeout(() => {
      retry = undefined;
      void fetchUtilisation();
    }, 1_000);
});

export function refreshUtilisation(atLeastRevision = 0): Promise<void> {
  wanted = Math.max(wanted, atLeastRevision);
  return fetchUtilisation();
}
