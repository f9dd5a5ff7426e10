/**
 * The Host headers the playground answers to. A page on another site can make a visitor's
 * browser reach the playground under that site's own name (DNS rebinding); refusing every Host
 * that is not a name of this server closes that door, whatever the bind address.
 */
import { isIPv6 } from 'node:net';
import { networkInterfaces } from 'node:os';

const WILDCARD = new Set(['0.0.0.0', '::', '']);
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];

/** `host:port`, IPv6 literals in brackets, lower case: the form a Host header takes. */
function withPort(host: string, port: number): string {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return `${isIPv6(bare) ? `[${bare}]` : bare}:${port}`;
}

function isLoopback(address: string): boolean {
  return /^127\./.test(address) || address === '::1' || address === '::ffff:127.0.0.1';
}

/**
 * Every `host:port` a browser may send for this server:
 * - the bind name as configured (`127.1`) and the address it resolved to (`127.0.0.1`);
 * - for a loopback bind, the usual loopback names (`localhost`, `127.0.0.1`, `[::1]`);
 * - for a wildcard bind (`0.0.0.0`, `::`), those and every address of this machine's interfaces;
 * - the operator's `publicHosts` (a reverse proxy's name), as given and with the port added.
 */
export function allowedHosts(options: {
  bindHost: string;
  boundAddress: string;
  port: number;
  publicHosts?: readonly string[];
}): Set<string> {
  const { bindHost, boundAddress, port } = options;
  const names = [bindHost, boundAddress];
  const wildcard = WILDCARD.has(bindHost) || WILDCARD.has(boundAddress);
  if (wildcard || isLoopback(boundAddress)) names.push(...LOOPBACK_NAMES);
  if (wildcard) {
    for (const list of Object.values(networkInterfaces())) {
      for (const info of list ?? []) names.push(info.address);
    }
  }
  // The wildcard itself stays: no other site can make a browser send `Host: 0.0.0.0`.
  const allowed = new Set(names.filter((n) => n !== '').map((n) => withPort(n, port)));
  for (const name of options.publicHosts ?? []) {
    const lower = name.toLowerCase();
    allowed.add(lower);
    if (!/:\d+$/.test(lower) || isIPv6(lower)) allowed.add(withPort(lower, port));
  }
  return allowed;
}
