import fc from 'fast-check';
import { parseCniArgs } from './cni-args';
import { CniCode, CniFailure } from './errors';

// Property-based fuzzing of CNI_ARGS parsing: whatever the runtime puts in CNI_ARGS, the
// parser answers with arguments or a CniFailure (code 4), never anything else; and what
// it accepts reads back exactly what was written.

const KNOWN = ['K8S_POD_NAMESPACE', 'K8S_POD_NAME', 'K8S_POD_INFRA_CONTAINER_ID', 'K8S_POD_UID', 'IP', 'IgnoreUnknown'];
const FRAGMENTS = [...KNOWN, '=', ';', ',', ' ', '\t', '1', 'true', 'default', 'web-0', '10.0.0.1', 'fd00::1', 'FOO', '==', ';;', 'é', '\n'];

const textArb = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 20 }).map((parts) => parts.join('')),
);

function parseOrFailure(text: string) {
  try {
    return parseCniArgs(text);
  } catch (err) {
    if (err instanceof CniFailure) return err;
    throw err;
  }
}

// A value never holds ';' (the pair separator); a key is never empty and holds no '=' or ';'.
const valueArb = fc.string({ maxLength: 20 }).filter((v) => !v.includes(';'));
const unknownKeyArb = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,15}$/).filter((k) => !KNOWN.includes(k));

describe('CNI_ARGS parsing under random input', () => {
  it('answers any text with arguments or a CniFailure of code 4', () => {
    fc.assert(
      fc.property(textArb, (text) => {
        const out = parseOrFailure(text);
        if (out instanceof CniFailure) {
          expect(out.code).toBe(CniCode.badEnv);
          expect(out.message).toMatch(/^CNI_ARGS: /);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('reads back every known argument written, in any order, with IgnoreUnknown and unknown keys mixed in', () => {
    fc.assert(
      fc.property(
        fc.record({ K8S_POD_NAMESPACE: valueArb, K8S_POD_NAME: valueArb, K8S_POD_UID: valueArb }, { requiredKeys: [] }),
        fc.dictionary(unknownKeyArb, valueArb, { maxKeys: 4 }),
        fc.boolean(),
        (known, unknown, emptyPairs) => {
          const pairs = [['IgnoreUnknown', '1'], ...Object.entries(known), ...Object.entries(unknown)].map(([k, v]) => `${k}=${v}`);
          const text = (emptyPairs ? ['', ...pairs, ''] : pairs).join(';');
          const args = parseCniArgs(text);
          for (const [k, v] of Object.entries({ ...known, ...unknown })) expect(args.all[k]).toBe(v);
          expect(args.podNamespace).toBe(known.K8S_POD_NAMESPACE || undefined);
          expect(args.podName).toBe(known.K8S_POD_NAME || undefined);
          expect(args.ips).toEqual([]);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('refuses an unknown key unless IgnoreUnknown is 1 or true, naming the key', () => {
    fc.assert(
      fc.property(unknownKeyArb, valueArb, fc.constantFrom('', '0', 'false', 'yes', 'on'), (key, value, ignore) => {
        const text = `${ignore === '' ? '' : `IgnoreUnknown=${ignore};`}${key}=${value}`;
        const out = parseOrFailure(text);
        expect(out).toBeInstanceOf(CniFailure);
        expect((out as CniFailure).message).toContain(key);
      }),
      { numRuns: 1000 },
    );
  });

  it('splits IP= on commas, trimming and dropping empty entries', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.ipV4(), fc.ipV6(), fc.constant('')), { maxLength: 5 }), fc.array(fc.constantFrom('', ' ', '\t'), { minLength: 2, maxLength: 2 }), (ips, [l, r]) => {
        const args = parseCniArgs(`IP=${ips.map((ip) => `${l}${ip}${r}`).join(',')}`);
        expect(args.ips).toEqual(ips.filter((ip) => ip !== ''));
      }),
      { numRuns: 1000 },
    );
  });
});
