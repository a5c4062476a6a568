import { NodeRecord } from './node-registration';

/** The Resources calls NodeRecord makes, against one stored Node. */
function fakeResources(stored?: Record<string, unknown>) {
  let json = stored && JSON.stringify(stored);
  return {
    get current(): { spec: Record<string, unknown> } | undefined {
      return json === undefined ? undefined : (JSON.parse(json) as { spec: Record<string, unknown> });
    },
    resources: {
      get: async () => {
        if (!json) throw Object.assign(new Error('not found'), { code: 'not-found' });
        return { resourceJson: json };
      },
      apply: async (req: { resourceJson: string }) => {
        json = req.resourceJson;
        return { resourceJson: json };
      },
    },
  };
}

describe('node registration', () => {
  it("writes this node's addresses into spec.bgp, keeping the other BGP fields", async () => {
    const fake = fakeResources({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'n' }, spec: { bgp: { ipv4IPIPTunnelAddr: '10.0.0.1', ipv6Address: 'fd00::9' } } });
    await new NodeRecord(fake.resources as never, 'n').register({}, undefined, { ipv4: '172.30.0.11/24' });
    expect(fake.current!.spec).toEqual({ bgp: { ipv4IPIPTunnelAddr: '10.0.0.1', ipv4Address: '172.30.0.11/24' } });
  });

  it('leaves the addresses alone when none is known, and drops an empty bgp section', async () => {
    const fake = fakeResources({ apiVersion: 'projectcalico.org/v3', kind: 'Node', metadata: { name: 'n' }, spec: { bgp: { ipv4Address: '172.30.0.11' } } });
    const record = new NodeRecord(fake.resources as never, 'n');
    await record.register({ zone: 'a' }, undefined);
    expect(fake.current!.spec).toEqual({ bgp: { ipv4Address: '172.30.0.11' } });
    await record.register({ zone: 'a' }, undefined, {});
    expect(fake.current!.spec).toEqual({});
  });
});
