// Adapter: the Docker Engine API (v1.41, dockerd 20.10 and newer) over its
// unix socket (or plain tcp://). Only the calls the agent needs: ping,
// networks (list, inspect, create, remove) and the events stream.

import { Agent, type RequestOptions } from 'node:http';
import { openRequest, readText } from '../http-client.js';
import type { DockerNetworkSpec, ObservedDockerNetwork } from './networks.js';
import { OPT_BRIDGE, OPT_MASQUERADE, OPT_MTU, OWNER_LABEL } from './networks.js';

const API = '/v1.41';

/** Where the engine is; parsed from --docker-host / $DOCKER_HOST. */
export type DockerEndpoint = { kind: 'unix'; path: string; url: string } | { kind: 'tcp'; origin: string; url: string };

/** `unix:///path` or `tcp://host:port`; a string saying what is wrong otherwise. */
export function parseDockerHost(text: string): DockerEndpoint | string {
  if (text.startsWith('unix://')) {
    const path = text.slice('unix://'.length);
    if (!path.startsWith('/')) return `${JSON.stringify(text)} is not unix:///absolute/path`;
    return { kind: 'unix', path, url: text };
  }
  const m = /^tcp:\/\/([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})\/?$/.exec(text);
  if (m && Number(m[2]) <= 65535) return { kind: 'tcp', origin: `http://${m[1]}:${m[2]}`, url: text };
  return `${JSON.stringify(text)} is neither unix:///path nor tcp://host:port`;
}

export class DockerApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface RawNetwork {
  Id: string;
  Name: string;
  Driver: string;
  Options?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
  IPAM?: { Config?: { Subnet?: string; Gateway?: string }[] | null } | null;
  Containers?: Record<string, { Name?: string; IPv4Address?: string; IPv6Address?: string }> | null;
}

const withoutLength = (text: string | undefined): string | undefined => (text ? text.split('/')[0] : undefined) || undefined;

export function toObserved(raw: RawNetwork): ObservedDockerNetwork {
  return {
    id: raw.Id,
    name: raw.Name,
    driver: raw.Driver,
    options: raw.Options ?? {},
    labels: raw.Labels ?? {},
    ranges: (raw.IPAM?.Config ?? [])
      .filter((c) => c.Subnet)
      .map((c) => ({ subnet: c.Subnet!, ...(c.Gateway ? { gateway: c.Gateway } : {}) })),
    containers: Object.entries(raw.Containers ?? {})
      // Endpoints of containers on other hosts or not yet started have no id we can use.
      .filter(([id]) => /^[0-9a-f]{12,64}$/.test(id))
      .map(([id, c]) => ({
        id,
        name: c.Name ?? '',
        ...(withoutLength(c.IPv4Address) && { ip: withoutLength(c.IPv4Address) }),
        ...(withoutLength(c.IPv6Address) && { ip6: withoutLength(c.IPv6Address) }),
      })),
  };
}

/** The body of `POST /networks/create` for a spec. */
export function createBody(spec: DockerNetworkSpec): unknown {
  return {
    Name: spec.name,
    CheckDuplicate: true,
    Driver: 'bridge',
    EnableIPv6: spec.ranges.some((r) => r.subnet.includes(':')),
    IPAM: { Driver: 'default', Config: spec.ranges.map((r) => ({ Subnet: r.subnet, Gateway: r.gateway })) },
    Options: { [OPT_BRIDGE]: spec.bridge, [OPT_MASQUERADE]: 'false', [OPT_MTU]: String(spec.mtu) },
    Labels: { [OWNER_LABEL]: spec.name },
  };
}

/** How to reach the engine: its socket, or host and port. */
function endpointOptions(endpoint: DockerEndpoint): RequestOptions {
  if (endpoint.kind === 'unix') return { socketPath: endpoint.path };
  const origin = new URL(endpoint.origin);
  return { hostname: origin.hostname.replace(/^\[|\]$/g, ''), port: origin.port };
}

export class DockerEngine {
  /** Calls share up to 4 connections; the event stream has one of its own, or it would queue every call behind it. */
  private readonly calls = new Agent({ keepAlive: true, maxSockets: 4 });
  private readonly events = new Agent({ keepAlive: false });
  private readonly target: RequestOptions;

  constructor(readonly endpoint: DockerEndpoint) {
    this.target = endpointOptions(endpoint);
  }

  private async call<T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown, timeoutMs = 10_000): Promise<T> {
    const res = await openRequest(
      {
        ...this.target,
        method,
        path: `${API}${path}`,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        agent: this.calls,
        signal: AbortSignal.timeout(timeoutMs),
      },
      body === undefined ? {} : { body: JSON.stringify(body) },
    );
    const text = await readText(res);
    const status = res.statusCode ?? 0;
    if (status >= 300) {
      let message = text.trim();
      try {
        message = (JSON.parse(text) as { message?: string }).message ?? message;
      } catch {
        /* not JSON: keep the text */
      }
      throw new DockerApiError(status, `${method} ${path}: ${status} ${message}`);
    }
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** The engine's version, e.g. "20.10.24". */
  async version(): Promise<string> {
    return (await this.call<{ Version: string }>('GET', '/version')).Version;
  }

  /** Every network with this name or vxnet's label, inspected (the list omits containers). */
  async networks(names: ReadonlySet<string>): Promise<ObservedDockerNetwork[]> {
    const all = await this.call<RawNetwork[]>('GET', '/networks');
    const relevant = all.filter((n) => names.has(n.Name) || n.Labels?.[OWNER_LABEL] !== undefined);
    const inspected = await Promise.all(
      relevant.map((n) =>
        this.call<RawNetwork>('GET', `/networks/${encodeURIComponent(n.Id)}`).catch((e: unknown) => {
          if (e instanceof DockerApiError && e.status === 404) return undefined; // removed meanwhile
          throw e;
        }),
      ),
    );
    return inspected.filter((n): n is RawNetwork => n !== undefined).map(toObserved);
  }

  async createNetwork(spec: DockerNetworkSpec): Promise<void> {
    await this.call('POST', '/networks/create', createBody(spec), 30_000);
  }

  async removeNetwork(id: string): Promise<void> {
    try {
      await this.call('DELETE', `/networks/${encodeURIComponent(id)}`, undefined, 30_000);
    } catch (e) {
      if (!(e instanceof DockerApiError && e.status === 404)) throw e;
    }
  }

  /** Detaches a container from a network even if it is running (cleanup --force). */
  async disconnect(networkId: string, containerId: string): Promise<void> {
    await this.call('POST', `/networks/${encodeURIComponent(networkId)}/disconnect`, { Container: containerId, Force: true }, 30_000);
  }

  /**
   * Follows the engine's network and container events, calling `onEvent` for
   * each and once on every (re)connection; reconnects until `signal` aborts.
   */
  async followEvents(onEvent: () => void, signal: AbortSignal): Promise<void> {
    const filters = encodeURIComponent(JSON.stringify({ type: ['network', 'container', 'daemon'] }));
    let delayMs = 250;
    while (!signal.aborted) {
      let connected = false;
      try {
        const res = await openRequest(
          { ...this.target, method: 'GET', path: `${API}/events?filters=${filters}`, agent: this.events, signal },
          { answerWithinMs: 10_000 }, // then silent while nothing happens: the body has no time limit
        );
        if (res.statusCode !== 200) {
          res.resume();
          throw new Error(`events: ${res.statusCode}`);
        }
        delayMs = 250;
        connected = true;
        onEvent(); // connected: the engine may be new or restarted
        for await (const chunk of res) {
          if ((chunk as Buffer).length > 0) onEvent();
        }
      } catch {
        /* engine absent or gone: retried below */
      }
      if (signal.aborted) break;
      // The stream ended: the engine stopped, or restarts. A failed connect changes nothing (no engine stays no engine).
      if (connected) onEvent();
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      delayMs = Math.min(delayMs * 2, 5_000);
    }
  }

  async close(): Promise<void> {
    this.calls.destroy();
    this.events.destroy();
  }
}

/** "not found" when nothing listens on the socket; the error text otherwise. */
export function describeEngineError(endpoint: DockerEndpoint, err: unknown): string {
  const code = (err as { code?: string; cause?: { code?: string } }).code ?? (err as { cause?: { code?: string } }).cause?.code;
  if (code === 'ENOENT' || code === 'ECONNREFUSED') return `not found at ${endpoint.url}`;
  return `${endpoint.url}: ${err instanceof Error ? err.message : String(err)}`;
}
