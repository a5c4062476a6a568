import { CliError } from './errors';
import { lookupKind, resolveKind } from './kinds';

describe('resource types on the command line', () => {
  it.each([
    ['IPPool', 'IPPool'],
    ['ippool', 'IPPool'],
    ['ippools', 'IPPool'],
    ['IPPOOLS', 'IPPool'],
    ['ipp', 'IPPool'],
    ['pools', 'IPPool'],
    ['IPReservation', 'IPReservation'],
    ['ipreservations', 'IPReservation'],
    ['reservation', 'IPReservation'],
    ['IPAMConfiguration', 'IPAMConfiguration'],
    ['ipamconfig', 'IPAMConfiguration'],
    ['ipamconfigurations', 'IPAMConfiguration'],
    ['ipamconfigs', 'IPAMConfiguration'],
    ['Node', 'Node'],
    ['nodes', 'Node'],
    ['no', 'Node'],
  ])('reads %p as %p', (text, kind) => {
    expect(lookupKind(text)).toBe(kind);
  });

  it.each(['ipamblock', 'bgppeer', 'ippooll', ''])('does not know %p', (text) => {
    expect(lookupKind(text)).toBeUndefined();
  });

  it("refuses an unknown type with calicoctl's wording", () => {
    expect(() => resolveKind('bgppeer')).toThrow(new CliError("Resource type 'bgppeer' is not supported; use one of ippool, ipreservation, ipamconfiguration, node"));
  });
});
