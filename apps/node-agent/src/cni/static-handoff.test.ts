import { decide, GoneHolders, type Holder, type Requester } from './static-handoff';
import type { PodInfo } from './ports';

// Who holds a requested address decides what an ADD does with it (table of cases).
const me: Requester = { namespace: 'db', name: 'db-0', uid: 'uid-new', handleId: 'net.new', node: 'node-1', attributes: {} };
const holder = (attributes: Record<string, string>): Holder => ({ handleId: 'net.old', attributes: { node: 'node-1', ...attributes } });
const pod = (uid: string | undefined, terminating = false): PodInfo => ({ annotations: {}, labels: {}, ...(uid && { uid }), ...(terminating && { terminating }) });
const NO_GRACE_LEFT = () => 0;
const GRACE_LEFT = () => 2500;
const WITHOUT_UID: Requester = { ...me, uid: undefined };

describe('deciding who gets a requested address that is already allocated', () => {
  it.each<[string, Holder, PodInfo | undefined, () => number, ReturnType<typeof decide>, Requester?]>([
    ['the same pod under another sandbox takes it at once', holder({ namespace: 'db', pod: 'db-0', podUid: 'uid-new' }), pod('uid-new'), GRACE_LEFT, { kind: 'hand-off', reason: 'same-pod' }],
    ['an earlier pod of the same name that is terminating makes it wait', holder({ namespace: 'db', pod: 'db-0', podUid: 'uid-old' }), pod('uid-old', true), NO_GRACE_LEFT, { kind: 'wait', message: 'address 10.0.0.5 is still held by pod db/db-0 (terminating)' }],
    ['an earlier pod of the same name gone from the API gives it up once the grace has passed', holder({ namespace: 'db', pod: 'db-0', podUid: 'uid-old' }), pod('uid-new'), NO_GRACE_LEFT, { kind: 'hand-off', reason: 'holder-gone' }],
    ['a pod gone from the API makes it wait during the grace', holder({ namespace: 'web', pod: 'web-x', podUid: 'uid-x' }), undefined, GRACE_LEFT, { kind: 'wait', message: 'address 10.0.0.5 is still held by pod web/web-x (gone from the Kubernetes API; handed over in 3 s unless it returns)' }],
    ['a pod gone from the API gives it up after the grace', holder({ namespace: 'web', pod: 'web-x', podUid: 'uid-x' }), undefined, NO_GRACE_LEFT, { kind: 'hand-off', reason: 'holder-gone' }],
    ['another live pod keeps it', holder({ namespace: 'web', pod: 'web-x', podUid: 'uid-x' }), pod('uid-x'), NO_GRACE_LEFT, { kind: 'refuse' }],
    ['another pod that is terminating keeps it until its DEL (only same-name replacements wait)', holder({ namespace: 'web', pod: 'web-x', podUid: 'uid-x' }), pod('uid-x', true), NO_GRACE_LEFT, { kind: 'refuse' }],
    ['a holder that is not a pod keeps it', holder({}), undefined, NO_GRACE_LEFT, { kind: 'refuse' }],
    ['a holder without a recorded UID whose pod is live keeps it (as before)', holder({ namespace: 'db', pod: 'db-0' }), pod('uid-new'), NO_GRACE_LEFT, { kind: 'refuse' }],
    ['a holder without a recorded UID whose pod is gone gives it up after the grace', holder({ namespace: 'web', pod: 'web-x' }), undefined, NO_GRACE_LEFT, { kind: 'hand-off', reason: 'holder-gone' }],
    ['a sandbox without a UID is never the same pod', holder({ namespace: 'db', pod: 'db-0', podUid: 'uid-new' }), pod('uid-new'), NO_GRACE_LEFT, { kind: 'refuse' }, WITHOUT_UID],
  ])('%s', (_sentence, h, live, graceLeft, expected, requester = me) => {
    expect(decide('10.0.0.5', h, requester, live, graceLeft)).toEqual(expected);
  });
});

describe('the grace for holders gone from the API', () => {
  it('counts from when the holder was first seen gone, and again after it is forgotten', () => {
    const gone = new GoneHolders(30_000);
    expect(gone.remaining('a', 1_000)).toBe(30_000);
    expect(gone.remaining('a', 21_000)).toBe(10_000);
    expect(gone.remaining('b', 21_000)).toBe(30_000);
    expect(gone.remaining('a', 31_000)).toBe(0);
    gone.forget('a');
    expect(gone.remaining('a', 40_000)).toBe(30_000);
  });
});
