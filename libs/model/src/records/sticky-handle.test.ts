import { idleStickyHandle, parseStickyHandle, stickyHandle } from './sticky-handle';

describe('sticky handles', () => {
  it('name the identity and read back, dots in the set name included', () => {
    const id = { namespace: 'db', set: 'pg.main', ordinal: 12 };
    expect(stickyHandle(id)).toBe('atoll-sticky.db.pg.main.12');
    expect(idleStickyHandle(id)).toBe('atoll-sticky-idle.db.pg.main.12');
    expect(parseStickyHandle(stickyHandle(id))).toEqual({ ...id, idle: false });
    expect(parseStickyHandle(idleStickyHandle(id))).toEqual({ ...id, idle: true });
  });

  it.each(['k8s-pod-network.abc', 'atoll-sticky.db.x', 'atoll-sticky.db.db.01', 'atoll-sticky..db.0', '', undefined])('are not %p', (h) => {
    expect(parseStickyHandle(h)).toBeUndefined();
  });
});
