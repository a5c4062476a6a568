import { CniFailure } from './errors';
import { stickyIdentityOf } from './sticky';

const sts = [{ kind: 'StatefulSet', name: 'db' }];

describe('which pods are sticky (atoll.io/sticky)', () => {
  it.each<[string, Record<string, string>, Record<string, string>, typeof sts | undefined, ReturnType<typeof stickyIdentityOf>]>([
    ['a StatefulSet pod annotated "true"', { 'atoll.io/sticky': 'true' }, {}, sts, { namespace: 'ns', set: 'db', ordinal: 2 }],
    ['a StatefulSet pod in a namespace annotated "true"', {}, { 'atoll.io/sticky': 'true' }, sts, { namespace: 'ns', set: 'db', ordinal: 2 }],
    ['not a pod that says "false" in a sticky namespace', { 'atoll.io/sticky': 'false' }, { 'atoll.io/sticky': 'true' }, sts, undefined],
    ['a pod that says "true" in a namespace that says "false"', { 'atoll.io/sticky': 'true' }, { 'atoll.io/sticky': 'false' }, sts, { namespace: 'ns', set: 'db', ordinal: 2 }],
    ['not a pod without the annotation', {}, {}, sts, undefined],
    ['not a sticky pod of a ReplicaSet', { 'atoll.io/sticky': 'true' }, {}, [{ kind: 'ReplicaSet', name: 'db' }], undefined],
    ['not a sticky pod without owners', { 'atoll.io/sticky': 'true' }, {}, undefined, undefined],
  ])('%s', (_what, pod, ns, owners, expected) => {
    expect(stickyIdentityOf('ns', 'db-2', pod, ns, owners)).toEqual(expected);
  });

  it.each(['yes', 'True', ' true', ''])('refuses the value %j, naming the annotation', (value) => {
    const call = () => stickyIdentityOf('ns', 'db-2', { 'atoll.io/sticky': value }, {}, sts);
    expect(call).toThrow(CniFailure);
    expect(call).toThrow(`annotation "atoll.io/sticky" must be "true" or "false", got ${JSON.stringify(value)}`);
  });
});
