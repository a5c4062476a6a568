import { formatIp, parseIp } from '@atoll/ipmath';
import fc from 'fast-check';
import { Annotations, parseSpecificIps, resolveAddressRequest } from './annotations';
import { parseCniArgs } from './cni-args';
import { CniCode, CniFailure } from './errors';
import { parseNetConf } from './netconf';

// Property-based fuzzing of Calico's annotations as the node agent reads them: whatever a
// pod or namespace carries, the answer is an address request or a CniFailure (code 104),
// never another exception; accepted addresses come back canonical and read back the same;
// and the address forms Go's parser refuses (leading zeros, octal/hex, zones, IPv4-mapped
// IPv6) are refused here too.

const netconf = parseNetConf(JSON.stringify({ cniVersion: '1.0.0', name: 'k8s-pod-network', ipam: { type: 'atoll-ipam' } }));
const withNoIpam = parseNetConf(JSON.stringify({ cniVersion: '1.0.0', name: 'k8s-pod-network', ipam: { type: 'atoll-ipam', feature_control: { ip_addrs_no_ipam: true } } }));
const args = parseCniArgs('K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p');

function outcome<T>(fn: () => T): T | CniFailure {
  try {
    return fn();
  } catch (err) {
    if (err instanceof CniFailure) return err;
    throw err;
  }
}

const ipLike = fc.oneof(
  fc.ipV4(),
  fc.ipV4Extended(),
  fc.ipV6(),
  fc.constantFrom('::ffff:10.0.0.1', 'fe80::1%eth0', '10.0.0.1/32', '010.0.0.1', '', ' ', '1.2.3', '::', '0.0.0.0', '[fd00::1]'),
  fc.string({ maxLength: 20 }),
);
/** Annotation values: JSON lists of address-like strings, other JSON, and arbitrary text. */
const annotationValue = fc.oneof(
  fc.array(ipLike, { maxLength: 4 }).map((xs) => JSON.stringify(xs)),
  fc.array(fc.constantFrom('IPv4', 'IPv6', 'ipv4', 'IPv5', ''), { maxLength: 3 }).map((xs) => JSON.stringify(xs)),
  fc.json({ maxDepth: 2 }),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
);
const annotationsArb = fc.dictionary(fc.constantFrom(...Object.values(Annotations), 'other/annotation'), annotationValue, { maxKeys: 4 });

/** Go's net.ParseIP dotted decimal: four decimal octets 0–255, no leading zeros. */
const DOTTED_DECIMAL = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;
const isPlainIpv4 = (s: string) => DOTTED_DECIMAL.test(s) && s.split('.').every((o) => Number(o) <= 255);

describe('annotation parsing under random input', () => {
  it('answers any pod and namespace annotations with an address request or a CniFailure of code 104', () => {
    fc.assert(
      fc.property(annotationsArb, annotationsArb, fc.boolean(), (pod, ns, noIpam) => {
        const out = outcome(() => resolveAddressRequest({ netconf: noIpam ? withNoIpam : netconf, args, podAnnotations: pod, namespaceAnnotations: ns }));
        if (out instanceof CniFailure) {
          expect(out.code).toBe(CniCode.badAddressRequest);
          expect(out.message.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('answers any ipAddrs text with canonical addresses or a CniFailure of code 104', () => {
    fc.assert(
      fc.property(annotationValue, (value) => {
        const out = outcome(() => parseSpecificIps(Annotations.ipAddrs, value));
        if (out instanceof CniFailure) expect(out.code).toBe(CniCode.badAddressRequest);
        else for (const ip of out) expect(formatIp(parseIp(ip))).toBe(ip);
      }),
      { numRuns: 5000 },
    );
  });

  it('accepts an IPv4 address exactly when it is plain dotted decimal, as Go does', () => {
    fc.assert(
      fc.property(fc.ipV4Extended(), (text) => {
        const out = outcome(() => parseSpecificIps(Annotations.ipAddrs, JSON.stringify([text])));
        if (isPlainIpv4(text)) expect(out).toEqual([text]);
        else expect(out).toBeInstanceOf(CniFailure);
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses every IPv4-mapped IPv6 address and every zone id, in any spelling', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.constantFrom('::ffff:', '0:0:0:0:0:ffff:', '::FFFF:', '0::ffff:'), fc.stringMatching(/^[a-z0-9]{1,8}$/), (v4, prefix, zone) => {
        expect(outcome(() => parseSpecificIps(Annotations.ipAddrs, JSON.stringify([`${prefix}${v4}`])))).toBeInstanceOf(CniFailure);
        expect(outcome(() => parseSpecificIps(Annotations.ipAddrs, JSON.stringify([`fd00::${zone.length}%${zone}`])))).toBeInstanceOf(CniFailure);
      }),
      { numRuns: 1000 },
    );
  });

  it('reads back its own answer: at most one address per family, in order, canonical, whatever the spelling; refuses any padding, as Calico does', () => {
    fc.assert(
      fc.property(fc.option(fc.ipV4(), { nil: undefined }), fc.option(fc.ipV6(), { nil: undefined }), fc.boolean(), fc.constantFrom('', ' ', '\t', '\n'), (v4, v6, v6First, pad) => {
        const wanted = (v6First ? [v6, v4] : [v4, v6]).filter((x): x is string => x !== undefined);
        fc.pre(wanted.length > 0);
        const out = outcome(() => parseSpecificIps(Annotations.ipAddrs, JSON.stringify(wanted.map((w) => `${pad}${w}${pad}`))));
        const mapped = v6 !== undefined && (parseIp(v6).value >> 32n) === 0xffffn;
        if (mapped || pad !== '') {
          expect(out).toBeInstanceOf(CniFailure);
          expect((out as CniFailure).message).toMatch(/^invalid IP format: /);
          return;
        }
        expect(out).not.toBeInstanceOf(CniFailure);
        const ips = out as string[];
        expect(ips).toEqual(wanted.map((w) => formatIp(parseIp(w))));
        expect(parseSpecificIps(Annotations.ipAddrs, JSON.stringify(ips))).toEqual(ips);
        const request = resolveAddressRequest({ netconf, args, podAnnotations: { [Annotations.ipAddrs]: JSON.stringify(wanted) }, namespaceAnnotations: {} });
        expect(request).toEqual({ kind: 'static', ips });
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses two addresses of one family in any order and spelling', () => {
    fc.assert(
      fc.property(fc.oneof(fc.tuple(fc.ipV4(), fc.ipV4()), fc.tuple(fc.ipV6(), fc.ipV6())), fc.option(fc.ipV6(), { nil: undefined }), ([a, b], other) => {
        const list = other === undefined ? [a, b] : [a, other, b];
        const out = outcome(() => parseSpecificIps(Annotations.ipAddrs, JSON.stringify(list)));
        expect(out).toBeInstanceOf(CniFailure);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses any annotation larger than 16 KiB with a CniFailure, whatever it holds', () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.values(Annotations)), fc.integer({ min: 16 * 1024 + 1, max: 64 * 1024 }), fc.constantFrom(' ', 'x', '"', '['), (name, size, fill) => {
        const value = `[${fill.repeat(size)}]`;
        const out = outcome(() => resolveAddressRequest({ netconf: withNoIpam, args, podAnnotations: { [name]: value }, namespaceAnnotations: {} }));
        expect(out).toBeInstanceOf(CniFailure);
        expect((out as CniFailure).code).toBe(CniCode.badAddressRequest);
      }),
      { numRuns: 200 },
    );
  });
});
