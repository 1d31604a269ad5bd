// Prometheus metrics of the master, on a registry of its own (no globals).

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { PoolUsage } from '../alloc/allocator.js';
import type { UtilisationView } from '../api/types.js';
import type { MasterObserver } from './service.js';
import type { WatchStreams } from './watch-streams.js';

export interface MetricsSource {
  agentCount: number;
  usage(): PoolUsage[];
  /** Open watch streams. */
  watchers: number;
  /** The streams by kind, and how many were cut for passing their budget. */
  readonly reads?: { readonly streams: Pick<WatchStreams, 'count' | 'dropped'>; revision?: number; utilisation?(): UtilisationView };
}

export interface MasterMetrics {
  registry: Registry;
  observer: MasterObserver;
  /** Counts a refused registration (exhaustion). */
  exhausted: Counter;
}

export function createMetrics(source: () => MetricsSource | undefined): MasterMetrics {
  const registry = new Registry();
  // Process figures (RSS, heap, event-loop lag, open fds) come with prom-client.
  collectDefaultMetrics({ register: registry });
  const usage = (kind: PoolUsage['kind']) => (source()?.usage() ?? []).filter((u) => u.kind === kind);
  new Gauge({
    name: 'vxnet_agents',
    help: 'Registered agents',
    registers: [registry],
    collect() {
      this.set(source()?.agentCount ?? 0);
    },
  });
  for (const [name, help, pick] of [
    ['vxnet_overlay_subnets_used', 'Agent subnets in use per overlay and family', (u: PoolUsage) => u.used],
    ['vxnet_overlay_subnets_free', 'Agent subnets free per overlay and family', (u: PoolUsage) => u.total - u.used],
  ] as const) {
    new Gauge({
      name,
      help,
      labelNames: ['overlay', 'family'],
      registers: [registry],
      collect() {
        this.reset();
        for (const u of usage('overlay')) this.set({ overlay: u.name, family: `ipv${u.family}` }, pick(u));
      },
    });
  }
  new Gauge({
    name: 'vxnet_vtep_addresses_free',
    help: 'VTEP addresses free per family',
    labelNames: ['family'],
    registers: [registry],
    collect() {
      this.reset();
      for (const u of usage('vtep')) this.set({ family: `ipv${u.family}` }, u.total - u.used);
    },
  });
  registerUtilisation(registry, () => source()?.reads);
  new Gauge({
    name: 'vxnet_watch_streams',
    help: 'Open watch streams',
    registers: [registry],
    collect() {
      this.set(source()?.watchers ?? 0);
    },
  });
  new Gauge({
    name: 'vxnet_agent_watch_streams',
    help: 'Open watch streams of agents (X-Vxnet-Agent), which --max-watchers does not count',
    registers: [registry],
    collect() {
      this.set(source()?.reads?.streams.count('agent') ?? 0);
    },
  });
  new Gauge({
    name: 'vxnet_watch_streams_dropped',
    help: 'Watch streams cut since start for having more queued than --watch-buffer-kib (clients that do not read)',
    registers: [registry],
    collect() {
      this.set(source()?.reads?.streams.dropped ?? 0);
    },
  });
  const buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
  const registration = new Histogram({
    name: 'vxnet_registration_seconds',
    help: 'Registration latency until durable',
    buckets,
    registers: [registry],
  });
  const commit = new Histogram({ name: 'vxnet_store_commit_seconds', help: 'Store commit latency', buckets, registers: [registry] });
  const exhausted = new Counter({
    name: 'vxnet_registrations_refused_total',
    help: 'Registrations refused for lack of a VTEP address',
    registers: [registry],
  });
  return {
    registry,
    exhausted,
    observer: { registration: (s) => registration.observe(s), commit: (s) => commit.observe(s) },
  };
}

/**
 * Utilisation gauges (utilisation.ts), from the state the master serves.
 * Labels stay bounded: per overlay and family (at most MAX_OVERLAYS x 2), and
 * per agent exactly one series, its fullest bridge (used / capacity of
 * container addresses over its overlays), so a cluster of N agents adds N
 * series, not N x overlays x families; per-overlay detail of one agent is on
 * GET /overlay-master/utilisation.
 */
function registerUtilisation(registry: Registry, reads: () => MetricsSource['reads']): void {
  // The replica caches the view (by revision; under constant change, for ten times what it cost).
  const view = (): UtilisationView | undefined => reads()?.utilisation?.();
  const perFamily = (name: string, help: string, pick: (f: UtilisationView['overlays'][number]['families'][number]) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['overlay', 'family'],
      registers: [registry],
      collect() {
        this.reset();
        for (const o of view()?.overlays ?? [])
          for (const f of o.families) this.set({ overlay: o.name, family: `ipv${f.family}` }, pick(f));
      },
    });
  perFamily(
    'vxnet_overlay_subnets_quarantined',
    'Agent subnets held in quarantine (expired agents) per overlay and family',
    (f) => f.subnets.quarantined,
  );
  perFamily(
    'vxnet_overlay_container_addresses_used',
    'Container addresses the agents report per overlay and family',
    (f) => f.containers.used,
  );
  perFamily(
    'vxnet_overlay_container_addresses_free',
    "Container addresses free on the agents' bridge halves per overlay and family",
    (f) => f.containers.free,
  );
  new Gauge({
    name: 'vxnet_vtep_addresses_used',
    help: 'VTEP addresses held per family (expired agents included)',
    labelNames: ['family'],
    registers: [registry],
    collect() {
      this.reset();
      for (const v of view()?.vtep ?? []) this.set({ family: `ipv${v.family}` }, v.used);
    },
  });
  new Gauge({
    name: 'vxnet_agent_container_addresses_ratio',
    help: 'Per agent: the fullest of its bridges, container addresses used / capacity (0 to 1)',
    labelNames: ['agent'],
    registers: [registry],
    collect() {
      this.reset();
      for (const a of view()?.agents ?? []) {
        const ratio = Math.max(0, ...a.overlays.map((o) => (o.containers.total > 0 ? o.containers.used / o.containers.total : 0)));
        this.set({ agent: a.ip }, ratio);
      }
    },
  });
}
