import fc from 'fast-check';
import { CniCode, CniFailure } from './errors';
import { parseNetConf, SUPPORTED_VERSIONS } from './netconf';

// Property-based fuzzing of the network configuration parser the node agent applies to the
// plugin's stdin: for any text, and for any JSON shaped roughly like a configuration, it
// returns a NetConf or throws a CniFailure with a configuration code (1, 6 or 7), never
// anything else; and what it accepts reads back the same from its own `raw` object.

const CONFIG_CODES: readonly number[] = [CniCode.incompatibleVersion, CniCode.badStdin, CniCode.badConfig];

function parseOrFailure(text: string) {
  try {
    return parseNetConf(text);
  } catch (err) {
    if (err instanceof CniFailure) return err;
    throw err;
  }
}

/** Values of every JSON type, biased toward the ones a configuration field might hold. */
const fieldValue = fc.oneof(
  fc.constantFrom('true', 'false', 'TRUE', '', ' ', '10.0.0.0/16', 'fd00::/64', 'pool-a', '169.254.1.1', 'fd00::1', '::ffff:1.2.3.4', '1.2.3.04', 'x'),
  fc.jsonValue({ maxDepth: 2 }),
);
const ipamArb = fc.oneof(
  fc.dictionary(
    fc.constantFrom('type', 'assign_ipv4', 'assign_ipv6', 'ipv4_pools', 'ipv6_pools', 'ipv4_gateway', 'ipv6_gateway', 'feature_control', 'agent_socket', 'other'),
    fc.oneof(fieldValue, fc.array(fieldValue, { maxLength: 3 }), fc.dictionary(fc.constantFrom('ip_addrs_no_ipam', 'x'), fieldValue)),
  ),
  fc.jsonValue({ maxDepth: 1 }),
);
const configArb = fc.record(
  {
    cniVersion: fc.oneof(fc.constantFrom(...SUPPORTED_VERSIONS, '0.2.0', '1.2.0', '1.0', ''), fc.jsonValue({ maxDepth: 0 })),
    name: fc.oneof(fc.constantFrom('k8s-pod-network', '', 'a b'), fc.jsonValue({ maxDepth: 0 })),
    type: fc.constant('bridge'),
    ipam: ipamArb,
    prevResult: fc.jsonValue({ maxDepth: 2 }),
    'cni.dev/valid-attachments': fc.jsonValue({ maxDepth: 2 }),
    runtimeConfig: fc.jsonValue({ maxDepth: 3 }),
    feature_control: fc.jsonValue({ maxDepth: 2 }),
  },
  { requiredKeys: [] },
);

describe('network configuration parsing under random input', () => {
  it('answers any text with a NetConf or a CniFailure of code 1, 6 or 7', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 80 }), fc.json({ maxDepth: 3 })), (text) => {
        const out = parseOrFailure(text);
        if (out instanceof CniFailure) expect(CONFIG_CODES).toContain(out.code);
      }),
      { numRuns: 3000 },
    );
  });

  it('answers any configuration-shaped JSON with a NetConf or a CniFailure of code 1, 6 or 7', () => {
    fc.assert(
      fc.property(configArb, (conf) => {
        const out = parseOrFailure(JSON.stringify(conf));
        if (out instanceof CniFailure) {
          expect(CONFIG_CODES).toContain(out.code);
          expect(out.message.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('reads an accepted configuration back the same from its own raw object', () => {
    // Valid heads (version, name, an ipam object) with random bodies, so most are accepted.
    const acceptableArb = fc.record({
      cniVersion: fc.constantFrom(...SUPPORTED_VERSIONS),
      name: fc.constantFrom('k8s-pod-network', 'net.1', 'a_b-c'),
      ipam: fc.dictionary(
        fc.constantFrom('type', 'assign_ipv4', 'assign_ipv6', 'ipv4_pools', 'ipv6_pools', 'feature_control', 'agent_socket', 'other'),
        fc.oneof(fc.constantFrom('true', 'false', 'x'), fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }), fc.jsonValue({ maxDepth: 1 })),
      ),
      prevResult: fc.jsonValue({ maxDepth: 2 }),
      runtimeConfig: fc.jsonValue({ maxDepth: 2 }),
    });
    let accepted = 0;
    fc.assert(
      fc.property(acceptableArb, (conf) => {
        const first = parseOrFailure(JSON.stringify(conf));
        if (first instanceof CniFailure) return;
        accepted++;
        expect(parseNetConf(JSON.stringify(first.raw))).toEqual(first);
      }),
      { numRuns: 3000 },
    );
    expect(accepted).toBeGreaterThan(300);
  });

  it('reads back the fields of any valid configuration it is given', () => {
    const poolArb = fc.array(fc.oneof(fc.constantFrom('pool-a', '10.0.0.0/16'), fc.string({ maxLength: 12 })), { maxLength: 4 });
    fc.assert(
      fc.property(
        fc.constantFrom(...SUPPORTED_VERSIONS),
        fc.stringMatching(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,20}$/),
        fc.option(fc.constantFrom('true', 'false', 'other'), { nil: undefined }),
        fc.option(fc.constantFrom('true', 'false', 'other'), { nil: undefined }),
        poolArb,
        poolArb,
        fc.option(fc.ipV4(), { nil: undefined }),
        fc.option(fc.ipV6(), { nil: undefined }),
        (cniVersion, name, v4, v6, ipv4Pools, ipv6Pools, gw4, gw6) => {
          const ipam = { type: 'atoll-ipam', assign_ipv4: v4, assign_ipv6: v6, ipv4_pools: ipv4Pools, ipv6_pools: ipv6Pools, ipv4_gateway: gw4 };
          const out = parseOrFailure(JSON.stringify({ cniVersion, name, ipam }));
          expect(out).not.toBeInstanceOf(CniFailure);
          const conf = out as Exclude<typeof out, CniFailure>;
          expect(conf).toMatchObject({ cniVersion, name, assignIpv4: v4 !== 'false', assignIpv6: v6 === 'true', ipv4Pools, ipv6Pools });
          if (gw4 !== undefined) expect(conf.gateways[4]).toBe(gw4);
          // an IPv6 gateway written in any valid form comes back in one canonical form
          if (gw6 !== undefined) {
            const withV6 = parseOrFailure(JSON.stringify({ cniVersion, name, ipam: { ...ipam, ipv6_gateway: gw6 } }));
            if (withV6 instanceof CniFailure) {
              expect(withV6.code).toBe(CniCode.badConfig); // e.g. an IPv4-mapped form
            } else {
              const canonical = withV6.gateways[6]!;
              expect((parseNetConf(JSON.stringify({ cniVersion, name, ipam: { ...ipam, ipv6_gateway: canonical } })).gateways[6])).toBe(canonical);
            }
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
