import { bitsOf, formatIp, IpAddress, IpParseError, IpVersion, parseIp } from './address';

/** A CIDR: the network (base) address and prefix length. Always masked. */
export interface Cidr {
  readonly version: IpVersion;
  readonly base: bigint;
  readonly prefix: number;
}

export interface ParsedCidr {
  /** The masked CIDR. */
  readonly cidr: Cidr;
  /** The address as written, before masking (e.g. 10.0.0.5 in "10.0.0.5/24"). */
  readonly address: IpAddress;
  /** True when the text had no host bits set. */
  readonly strictlyMasked: boolean;
}

function hostMask(version: IpVersion, prefix: number): bigint {
  return (1n << BigInt(bitsOf(version) - prefix)) - 1n;
}

/**
 * Parses "addr/prefix". A bare address is accepted as a single-address CIDR when
 * `allowBareAddress` is set (IPReservation entries, Calico accepts those).
 */
export function parseCidrDetailed(text: string, options: { allowBareAddress?: boolean } = {}): ParsedCidr {
  if (typeof text !== 'string') throw new IpParseError(String(text), 'not a string');
  const slash = text.indexOf('/');
  if (slash < 0) {
    if (!options.allowBareAddress) throw new IpParseError(text, 'missing "/prefix"');
    const address = parseIp(text);
    const cidr = { version: address.version, base: address.value, prefix: bitsOf(address.version) };
    return { cidr, address, strictlyMasked: true };
  }
  const address = parseIp(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (!/^(0|[1-9]\d{0,2})$/.test(prefixText)) throw new IpParseError(text, 'prefix length is not a number');
  const prefix = Number(prefixText);
  if (prefix > bitsOf(address.version)) {
    throw new IpParseError(text, `prefix length ${prefix} exceeds ${bitsOf(address.version)}`);
  }
  const base = address.value & ~hostMask(address.version, prefix);
  return { cidr: { version: address.version, base, prefix }, address, strictlyMasked: base === address.value };
}

/** Parses a CIDR and masks it ("10.0.0.5/24" → 10.0.0.0/24). */
export function parseCidr(text: string, options: { allowBareAddress?: boolean } = {}): Cidr {
  return parseCidrDetailed(text, options).cidr;
}

export function tryParseCidr(text: string, options: { allowBareAddress?: boolean } = {}): Cidr | undefined {
  try {
    return parseCidr(text, options);
  } catch {
    return undefined;
  }
}

/** Canonical text, e.g. "10.0.0.0/26", "fd00::/122". */
export function formatCidr(c: Cidr): string {
  return `${formatIp({ version: c.version, value: c.base })}/${c.prefix}`;
}

export function cidrFromAddress(ip: IpAddress, prefix: number): Cidr {
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > bitsOf(ip.version)) {
    throw new RangeError(`prefix ${prefix} is not valid for IPv${ip.version}`);
  }
  return { version: ip.version, base: ip.value & ~hostMask(ip.version, prefix), prefix };
}

/** Number of addresses in the CIDR. */
export function cidrSize(c: Cidr): bigint {
  return 1n << BigInt(bitsOf(c.version) - c.prefix);
}

export function firstAddress(c: Cidr): IpAddress {
  return { version: c.version, value: c.base };
}

export function lastAddress(c: Cidr): IpAddress {
  return { version: c.version, value: c.base + cidrSize(c) - 1n };
}

export function cidrContains(c: Cidr, ip: IpAddress): boolean {
  return c.version === ip.version && ip.value >= c.base && ip.value < c.base + cidrSize(c);
}

/** True when every address of `inner` is in `outer`. */
export function cidrContainsCidr(outer: Cidr, inner: Cidr): boolean {
  return outer.version === inner.version && outer.prefix <= inner.prefix && cidrContains(outer, firstAddress(inner));
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return a.version === b.version && (cidrContainsCidr(a, b) || cidrContainsCidr(b, a));
}

export function cidrEquals(a: Cidr, b: Cidr): boolean {
  return a.version === b.version && a.base === b.base && a.prefix === b.prefix;
}

/** Orders by family, then base address, then prefix (shorter first). */
export function compareCidrs(a: Cidr, b: Cidr): number {
  if (a.version !== b.version) return a.version - b.version;
  if (a.base !== b.base) return a.base < b.base ? -1 : 1;
  return a.prefix - b.prefix;
}

const LINK_LOCAL: Record<IpVersion, Cidr> = {
  4: { version: 4, base: 0xa9fe0000n, prefix: 16 }, // 169.254.0.0/16
  6: { version: 6, base: 0xfe80n << 112n, prefix: 10 }, // fe80::/10
};

/** True when the CIDR overlaps the link-local range of its family (pools must not). */
export function overlapsLinkLocal(c: Cidr): boolean {
  return cidrsOverlap(c, LINK_LOCAL[c.version]);
}
