// What the master benches share: the wide two-overlay config that lets every
// agent hold a subnet in each, agent addresses, percentiles, RSS and a small
// keep-alive HTTP client (node:http, so the client costs little beside the master).

import { readFileSync } from 'node:fs';
import { type Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';

export const WIDE_CONFIG = {
  dcos_overlay_network: {
    vtep_subnet: '198.18.0.0/15',
    vtep_mac_oui: '70:B3:D5:00:00:00',
    overlays: [
      { name: 'wide-a', subnet: '10.0.0.0/8', prefix: 24 },
      { name: 'wide-b', subnet: '100.64.0.0/10', prefix: 26 },
    ],
  },
};

/**
 * Issue 10's scale config: a /15 of VTEPs and two /8 overlays with prefix 25,
 * so 100,000 agents each hold a VTEP and a subnet in both.
 */
export const SCALE_CONFIG = {
  dcos_overlay_network: {
    vtep_subnet: '198.18.0.0/15',
    vtep_mac_oui: '70:B3:D5:00:00:00',
    overlays: [
      { name: 'scale-a', subnet: '10.0.0.0/8', prefix: 25 },
      { name: 'scale-b', subnet: '11.0.0.0/8', prefix: 25 },
    ],
  },
};

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

export const agentIp = (n: number) => `172.${16 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
export const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
export const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

/** One JSON request over `agent`'s kept-alive sockets. */
export function httpCall(url: URL, agent: Agent, method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
  return new Promise((ok, fail) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        agent,
        headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => ok({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      },
    );
    req.on('error', fail);
    req.end(payload);
  });
}

/**
 * A lean keep-alive HTTP/1.1 connection: one request at a time, Content-Length
 * bodies only. It keeps the load generator's CPU small on a 2-core machine so
 * the figures measure the server rather than the client.
 */
export class LeanConnection {
  private socket: Socket;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private waiting?: { ok: (r: { status: number; text: string }) => void; fail: (e: Error) => void };
  /** The server's own address: a master without a token answers only Host names it knows. */
  private readonly host: string;

  constructor(s: { url: URL }) {
    this.host = s.url.host;
    this.socket = connect({ host: s.url.hostname, port: Number(s.url.port) });
    this.socket.setNoDelay(true);
    this.socket.on('data', (d: Buffer) => {
      this.chunks.push(d);
      this.buffered += d.length;
      this.tryAnswer();
    });
    this.socket.on('error', (e) => this.waiting?.fail(e));
  }

  post(path: string, body: string): Promise<{ status: number; text: string }> {
    return this.send(
      `POST ${path} HTTP/1.1\r\nHost: ${this.host}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }

  put(path: string, body: string): Promise<{ status: number; text: string }> {
    return this.send(
      `PUT ${path} HTTP/1.1\r\nHost: ${this.host}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }

  get(path: string): Promise<{ status: number; text: string }> {
    return this.send(`GET ${path} HTTP/1.1\r\nHost: ${this.host}\r\n\r\n`);
  }

  /** A GET whose body is kept as bytes: a client that stores or forwards /state need not decode it. */
  async getBytes(path: string): Promise<{ status: number; body: Buffer }> {
    this.keepBytes = true;
    try {
      const r = await this.send(`GET ${path} HTTP/1.1\r\nHost: ${this.host}\r\n\r\n`);
      return { status: r.status, body: this.lastBody! };
    } finally {
      this.keepBytes = false;
      this.lastBody = undefined;
    }
  }

  /**
   * A GET whose body is counted and dropped as it arrives (as `curl -o
   * /dev/null`): its time is the server's answer, not this client joining tens of MB.
   */
  async getLength(path: string): Promise<{ status: number; length: number }> {
    this.dropBody = true;
    try {
      const r = await this.send(`GET ${path} HTTP/1.1\r\nHost: ${this.host}\r\n\r\n`);
      return { status: r.status, length: this.lastLength };
    } finally {
      this.dropBody = false;
    }
  }

  close(): void {
    this.socket.destroy();
  }

  private send(request: string): Promise<{ status: number; text: string }> {
    return new Promise((ok, fail) => {
      this.waiting = { ok, fail };
      this.socket.write(request);
    });
  }

  /** The answer's head once it is in, and how many bytes the whole answer needs. */
  private head?: { status: number; bodyStart: number; total: number; length: number };
  private keepBytes = false;
  private lastBody: Buffer | undefined;
  /** getLength: the body's bytes are dropped as they come (the head's offsets move back by as many). */
  private dropBody = false;
  private lastLength = 0;

  private tryAnswer(): void {
    if (!this.waiting) return;
    if (!this.head) {
      const buffer = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
      this.chunks = [buffer];
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buffer.toString('latin1', 0, end);
      const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
      this.head = { status: Number(head.slice(9, 12)), bodyStart: end + 4, total: end + 4 + length, length };
    }
    // Chunks are joined once the whole body is in, not on every chunk (a /state of 100,000 agents is tens of MB).
    if (this.buffered < this.head.total) {
      if (this.dropBody) {
        this.head.total -= this.buffered;
        this.head.bodyStart = Math.max(0, this.head.bodyStart - this.buffered);
        this.chunks = [];
        this.buffered = 0;
      }
      return;
    }
    this.lastLength = this.head.length;
    const buffer = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
    if (this.keepBytes) this.lastBody = buffer.subarray(this.head.bodyStart, this.head.total);
    const text = this.keepBytes ? '' : buffer.toString('utf8', this.head.bodyStart, this.head.total);
    const rest = buffer.subarray(this.head.total);
    const status = this.head.status;
    this.head = undefined;
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting.ok({ status, text });
  }
}
