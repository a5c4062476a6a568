import { HandleLocations } from './handle-locations';

describe('where this engine put each handle', () => {
  it('remembers the block of addresses given with their block prefix, once', () => {
    const locations = new HandleLocations();
    locations.learn('pod', ['10.0.0.5/26', '10.0.0.9/26']);
    expect(locations.take('pod')).toBe('10.0.0.0/26');
    expect(locations.take('pod')).toBeUndefined();
  });

  it.each([
    ['addresses in two blocks', ['10.0.0.5/26', '10.0.0.70/26']],
    ['no address', []],
    ['an address it cannot read', ['nonsense']],
  ])('remembers nothing for %s, forgetting what it knew', (_what, addresses) => {
    const locations = new HandleLocations();
    locations.learn('pod', ['fd00::5/122']);
    locations.learn('pod', addresses);
    expect(locations.take('pod')).toBeUndefined();
  });

  it('drops the oldest entry beyond its bound', () => {
    const locations = new HandleLocations(2);
    locations.learn('a', ['10.0.0.1/26']);
    locations.learn('b', ['10.0.0.65/26']);
    locations.learn('c', ['10.0.0.129/26']);
    expect([locations.take('a'), locations.take('b'), locations.take('c')]).toEqual([undefined, '10.0.0.64/26', '10.0.0.128/26']);
  });
});
