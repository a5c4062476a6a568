import { applyIPReservationDefaults, IPReservation, validateIPReservation } from './index';

function reservation(spec: Record<string, unknown>, name = 'r1'): IPReservation {
  return { apiVersion: 'projectcalico.org/v3', kind: 'IPReservation', metadata: { name }, spec } as unknown as IPReservation;
}

function problems(value: unknown): Array<[string, string]> {
  return validateIPReservation(value).map((p) => [p.field, p.reason]);
}

describe('validateIPReservation', () => {
  it.each([
    ['bare IPv4 and IPv6 addresses', ['192.168.2.3', 'fd00::1']],
    ['CIDRs of both families', ['10.0.2.3/32', 'cafe:f00d::/123']],
    ['a CIDR with host bits set (Calico does not require masking here)', ['10.0.0.5/24']],
    ['an empty list', []],
  ])('accepts %s', (_title, reservedCIDRs) => {
    expect(problems(reservation({ reservedCIDRs }))).toEqual([]);
  });

  it('accepts a reservation without reservedCIDRs', () => {
    expect(problems(reservation({}))).toEqual([]);
  });

  it.each([
    ['an entry that is not an address', ['10.0.0.256'], 'spec.reservedCIDRs[0]', 'must be an IP address or a CIDR'],
    ['a prefix that is too long', ['10.0.0.0/33'], 'spec.reservedCIDRs[0]', 'must be an IP address or a CIDR'],
    ['a host name', ['10.0.0.1', 'node-1'], 'spec.reservedCIDRs[1]', 'must be an IP address or a CIDR'],
    ['the same entry twice', ['10.0.0.1', '10.0.0.2', '10.0.0.1'], 'spec.reservedCIDRs[2]', 'duplicate of spec.reservedCIDRs[0]'],
    ['a number', [10], 'spec.reservedCIDRs[0]', 'must be a string'],
    ['a single string instead of a list', '10.0.0.1', 'spec.reservedCIDRs', 'must be a list of strings'],
  ])('refuses %s', (_title, reservedCIDRs, field, reason) => {
    expect(problems(reservation({ reservedCIDRs }))).toContainEqual([field, reason]);
  });

  it('refuses an unknown spec field', () => {
    expect(problems(reservation({ reservedCIDR: ['10.0.0.1'] }))).toEqual([['spec.reservedCIDR', 'unknown field "reservedCIDR"']]);
  });

  it('refuses a status, which IPReservation does not have', () => {
    expect(problems({ ...reservation({}), status: {} })).toEqual([['status', 'unknown field "status"']]);
  });

  it('refuses an invalid name', () => {
    expect(problems(reservation({}, 'My_Reservation'))[0]?.[0]).toBe('metadata.name');
  });
});

describe('applyIPReservationDefaults', () => {
  it('gives a missing list an empty one', () => {
    expect(applyIPReservationDefaults(reservation({})).spec).toEqual({ reservedCIDRs: [] });
  });

  it('keeps entries as written and is idempotent', () => {
    const once = applyIPReservationDefaults(reservation({ reservedCIDRs: ['10.0.0.5/24', 'FD00::1'] }));
    expect(once.spec.reservedCIDRs).toEqual(['10.0.0.5/24', 'FD00::1']);
    expect(applyIPReservationDefaults(once)).toEqual(once);
  });

  it('never mutates its input', () => {
    const input = Object.freeze(reservation(Object.freeze({})));
    expect(applyIPReservationDefaults(input)).not.toBe(input);
    expect(input.spec).toEqual({});
  });
});
