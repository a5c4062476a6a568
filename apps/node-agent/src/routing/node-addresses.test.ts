import pino from 'pino';
import { Writable } from 'node:stream';
import { firstOfEachFamily, NodeAddressSource } from './node-addresses';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, new Writable({ write: (c, _e, cb) => (lines.push(JSON.parse(c.toString())), cb()) }));
  return { log, lines };
}

describe("this node's addresses", () => {
  it('takes the first InternalIP of each family', () => {
    expect(firstOfEachFamily(['10.1.0.5', 'fd00:0::5', '10.1.0.6', 'node-a.example'])).toEqual({ ipv4: '10.1.0.5', ipv6: 'fd00::5' });
    expect(firstOfEachFamily(['node-a.example'])).toBeUndefined();
  });

  it('prefers --node-ip to Kubernetes', async () => {
    const { log } = capture();
    const source = new NodeAddressSource({ flag: { ipv4: '172.30.0.11/24' }, internalIPs: async () => ['10.1.0.5'], routing: true, log });
    expect(await source.resolve()).toEqual({ ipv4: '172.30.0.11/24' });
  });

  it('with host-gw and no address, says once which flag to set, and again only after one was found and lost', async () => {
    const { log, lines } = capture();
    let ips: string[] | undefined;
    const source = new NodeAddressSource({ internalIPs: async () => ips, routing: true, log });
    expect(await source.resolve()).toBeUndefined();
    expect(await source.resolve()).toBeUndefined();
    expect(lines.filter((l) => l['level'] === 50)).toHaveLength(1);
    expect(String(lines[0]!['msg'])).toContain('set --node-ip (ATOLL_NODE_IP)');
    ips = ['10.1.0.5'];
    expect(await source.resolve()).toEqual({ ipv4: '10.1.0.5' });
    ips = [];
    await source.resolve();
    expect(lines.filter((l) => l['level'] === 50)).toHaveLength(2);
  });

  it('says nothing without host-gw', async () => {
    const { log, lines } = capture();
    expect(await new NodeAddressSource({ routing: false, log }).resolve()).toBeUndefined();
    expect(lines).toEqual([]);
  });
});
