import { compareVersions, requireCompatibleVersion } from './versions';

describe('compareVersions', () => {
  it.each([
    ['0.4.0', '0.3.1', 1],
    ['0.10.0', '0.4.0', 1],
    ['1.0.0', '1.0.0', 0],
    ['0.3.0', '1.1.0', -1],
  ])('orders %s against %s numerically', (a, b, sign) => {
    expect(Math.sign(compareVersions(a, b))).toBe(sign);
  });
});

describe('requireCompatibleVersion', () => {
  it.each([
    ['CHECK', '0.4.0'],
    ['GC', '1.1.0'],
    ['STATUS', '1.1.0'],
    ['ADD', '0.3.0'],
  ])('allows %s from %s on', (command, version) => {
    expect(requireCompatibleVersion(version, command)).toBe(version);
  });

  it('says which version a command needs', () => {
    expect(() => requireCompatibleVersion('1.0.0', 'GC')).toThrow(
      expect.objectContaining({ code: 1, message: 'config version does not allow GC', details: 'GC needs cniVersion 1.1.0 or later; the config says 1.0.0' }),
    );
  });
});
