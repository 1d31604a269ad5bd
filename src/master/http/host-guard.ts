// The Host header check of a master without any token: a web page the
// operator's browser loads could otherwise rebind its own DNS name to the
// master's address and write to it (DNS rebinding). Such a request carries
// the page's name in Host, so only loopback names, the listen address and
// names given with --allowed-host are answered.

import { VxnetError } from '../../errors.js';

/** The host part of a Host header or --allowed-host value, lowercased, without port, brackets or trailing dot. */
export function hostName(value: string): string {
  const text = value.trim().toLowerCase();
  const bracketed = /^\[([^\]]*)\](?::\d*)?$/.exec(text);
  if (bracketed) return bracketed[1]!;
  // One colon is a port; more is a bare IPv6 address.
  const name = text.split(':').length === 2 ? text.slice(0, text.indexOf(':')) : text;
  return name.replace(/\.$/, '');
}

/** Loopback names and addresses: they never reach another host. */
export function isLoopbackName(name: string): boolean {
  return name === 'localhost' || name.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(name) || name === '::1';
}

/** A check that throws FORBIDDEN for a Host header the master does not answer to. */
export function hostGuard(listenHost: string, allowedHosts: readonly string[]): (host: string | undefined) => void {
  const allowed = new Set([hostName(listenHost), ...allowedHosts.map(hostName)]);
  return (host) => {
    // Browsers always send Host; a client that does not is no browser.
    if (host === undefined) return;
    const name = hostName(host);
    if (isLoopbackName(name) || allowed.has(name)) return;
    throw new VxnetError(
      'FORBIDDEN',
      `the Host header "${host.slice(0, 100)}" is not a name this master answers to while it has no token (a guard against DNS rebinding); ` +
        `start the master with --allowed-host ${name.slice(0, 100)} if that name is yours, or secure it with --token-file`,
    );
  };
}
