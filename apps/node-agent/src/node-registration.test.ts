import { NodeRecord } from './node-registration';

/** The Resources calls NodeRecord makes, against one stored Node. */
function fakeResources(stored?: Record<string, unknown>) {
  let json = stored && JSON.stringify(stored);
  const fake = {
    get current(): { spec: Record<string, unknown> } | undefined {
      return json === undefined ? undefined : (JSON.parse(json) as { spec: Record<string, unknown> });
    },
    resources: {
      get: async () => {
        if (!json) throw Object.assign(new Error('not found'), { code: 'not-found' });
        return { resourceJson: json };
      },
      writes: 0,
      apply: async (req: { resourceJson: string }) => {
        fake.resources.writes++;
        json = req.resourceJson;
        return { resourceJson: json };
      },
    },
  };
  return fake;
}

describe('node registration', () => {
  it('writes nothing when a registration changes nothing (every resync registers again)', async () => {
    const fake = fakeResources();
    const record = new NodeRecord(fake.resources as never, 'n');
    await record.register({ zone: 'a', rack: '1' }, 'k8s', { ipv4: '172.30.0.11/24' });
    expect(fake.resources.writes).toBe(1);
    await record.register({ rack: '1', zone: 'a' }, 'k8s', { ipv4: '172.30.0.11/24' });
    expect(fake.resources.writes).toBe(1);
    await record.register({ zone: 'b', rack: '1' }, 'k8s', { ipv4: '172.30.0.11/24' });
    expect(fake.resources.writes).toBe(2);
    expect(fake.current).toMatchObject({ metadata: { labels: { zone: 'b', rack: '1' } } });
  });

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
