import * as ipaddr from 'ipaddr.js';

export type IpVersion = 4 | 6;

/** An IPv4 or IPv6 address as an unsigned integer of 32 or 128 bits. */
export interface IpAddress {
  readonly version: IpVersion;
  readonly value: bigint;
}

/** Input that is not an IP address (or CIDR); the message says which text and why. */
export class IpParseError extends Error {
  constructor(
    readonly input: string,
    reason: string,
  ) {
    super(`invalid IP address or CIDR "${input}": ${reason}`);
    this.name = 'IpParseError';
  }
}

export function bitsOf(version: IpVersion): 32 | 128 {
  return version === 4 ? 32 : 128;
}

export function maxValue(version: IpVersion): bigint {
  return (1n << BigInt(bitsOf(version))) - 1n;
}

// Only the four-part decimal form is an IPv4 address here. ipaddr.js (like inet_aton) also
// accepts octal, hex and shortened forms, which would make "010.0.0.1" mean 8.0.0.1; Go's
// net.ParseIP, and therefore Calico, rejects leading zeros outright.
const IPV4_DOTTED = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;

function parseIpv4(text: string): IpAddress | undefined {
  const m = IPV4_DOTTED.exec(text);
  if (!m) return undefined;
  let value = 0n;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    if (octet > 255) return undefined;
    value = (value << 8n) | BigInt(octet);
  }
  return { version: 4, value };
}

function parseIpv6(text: string): IpAddress | undefined {
  // Zone ids ("fe80::1%eth0") name an interface, not an address: refuse them.
  if (!text.includes(':') || text.includes('%') || !ipaddr.IPv6.isValid(text)) return undefined;
  let parsed: ipaddr.IPv6;
  try {
    parsed = ipaddr.IPv6.parse(text);
  } catch {
    return undefined;
  }
  let value = 0n;
  for (const part of parsed.parts) value = (value << 16n) | BigInt(part);
  return { version: 6, value };
}

/**
 * Parses an address in canonical or any standard textual form. IPv4-mapped IPv6 text
 * ("::ffff:10.0.0.1") stays IPv6: the family is what the text says, as in Calico.
 */
export function parseIp(text: string): IpAddress {
  if (typeof text !== 'string') throw new IpParseError(String(text), 'not a string');
  if (text !== text.trim() || text.length === 0) {
    throw new IpParseError(text, 'empty or surrounded by white space');
  }
  const ip = text.includes(':') ? parseIpv6(text) : parseIpv4(text);
  if (!ip) throw new IpParseError(text, 'not an IPv4 or IPv6 address');
  return ip;
}

/** Like parseIp, but answers undefined instead of throwing. */
export function tryParseIp(text: string): IpAddress | undefined {
  try {
    return parseIp(text);
  } catch {
    return undefined;
  }
}

/** Canonical text: dotted decimal for IPv4, RFC 5952 compressed lower case for IPv6. */
export function formatIp(ip: IpAddress): string {
  if (ip.version === 4) {
    const v = ip.value;
    return [24n, 16n, 8n, 0n].map((s) => ((v >> s) & 255n).toString()).join('.');
  }
  const parts: number[] = [];
  for (let i = 7; i >= 0; i--) parts.push(Number((ip.value >> BigInt(i * 16)) & 0xffffn));
  return new ipaddr.IPv6(parts).toRFC5952String();
}

export function ipFromValue(version: IpVersion, value: bigint): IpAddress {
  if (value < 0n || value > maxValue(version)) {
    throw new RangeError(`value ${value} is outside the IPv${version} address space`);
  }
  return { version, value };
}

export function ipEquals(a: IpAddress, b: IpAddress): boolean {
  return a.version === b.version && a.value === b.value;
}

/** Orders IPv4 before IPv6, then numerically. */
export function compareIps(a: IpAddress, b: IpAddress): number {
  if (a.version !== b.version) return a.version - b.version;
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}
