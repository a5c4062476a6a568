import { Readable } from 'node:stream';
import { CniError } from './errors';
import { DEFAULT_AGENT_SOCKET, parseNetworkConfig, readStdin, replyVersionOf } from './stdin';

const text = (o: Record<string, unknown>) => JSON.stringify({ cniVersion: '1.0.0', name: 'n', ipam: { type: 'atoll-ipam' }, ...o });

describe('parseNetworkConfig', () => {
  it('uses the default socket and a 30 s deadline when the config names neither', () => {
    expect(parseNetworkConfig(text({}), 'ADD')).toEqual({
      cniVersion: '1.0.0',
      name: 'n',
      ipamType: 'atoll-ipam',
      agentSocket: DEFAULT_AGENT_SOCKET,
      agentTimeoutMs: 30_000,
      text: text({}),
    });
    expect(DEFAULT_AGENT_SOCKET).toBe('/run/atoll/agent.sock');
  });

  it('reads ipam.agent_socket and a fractional ipam.agent_timeout_seconds', () => {
    const c = parseNetworkConfig(text({ ipam: { type: 'atoll-ipam', agent_socket: '/tmp/a.sock', agent_timeout_seconds: 2.5 } }), 'DEL');
    expect([c.agentSocket, c.agentTimeoutMs]).toEqual(['/tmp/a.sock', 2500]);
  });

  it.each(['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'])('accepts cniVersion %s for ADD and DEL', (v) => {
    expect(parseNetworkConfig(text({ cniVersion: v }), 'ADD').cniVersion).toBe(v);
    expect(parseNetworkConfig(text({ cniVersion: v }), 'DEL').cniVersion).toBe(v);
  });

  it('accepts the valid attachments inside runtimeConfig for GC', () => {
    const t = text({ cniVersion: '1.1.0', runtimeConfig: { 'cni.dev/valid-attachments': [] } });
    expect(parseNetworkConfig(t, 'GC').cniVersion).toBe('1.1.0');
  });

  it('keeps fields it does not know for the agent (pools, prevResult, runtimeConfig)', () => {
    const t = text({ prevResult: { ips: [] }, ipam: { type: 'atoll-ipam', ipv4_pools: ['default'] } });
    expect(parseNetworkConfig(t, 'CHECK').text).toBe(t);
  });

  it('reads a null name as missing, like Go', () => {
    expect(() => parseNetworkConfig(text({ name: null }), 'ADD')).toThrow(new CniError(7, 'missing network name'));
  });
});

describe('readStdin', () => {
  it('reads a stream in chunks', async () => {
    expect(await readStdin(Readable.from(['{"a"', ':1}']))).toBe('{"a":1}');
  });

  it('accepts exactly the limit and refuses one byte more', async () => {
    expect(await readStdin(Readable.from([Buffer.alloc(10, 0x20)]), 10)).toHaveLength(10);
    await expect(readStdin(Readable.from([Buffer.alloc(6, 0x20), Buffer.alloc(5, 0x20)]), 10)).rejects.toMatchObject({ code: 6 });
  });

  it('reports a broken stdin as an I/O failure (5)', async () => {
    const broken = new Readable({
      read() {
        this.destroy(new Error('EIO'));
      },
    });
    await expect(readStdin(broken)).rejects.toMatchObject({ code: 5, message: 'error reading from stdin: EIO' });
  });
});

describe('replyVersionOf', () => {
  it.each([
    [undefined, '1.1.0'],
    ['not json', '1.1.0'],
    ['{"cniVersion":"0.3.0"}', '0.3.0'],
    ['{"cniVersion":"0.2.0"}', '1.1.0'],
    ['{"cniVersion":7}', '1.1.0'],
    ['null', '1.1.0'],
  ])('picks a version for errors from %s', (t, expected) => {
    expect(replyVersionOf(t, '1.1.0')).toBe(expected);
  });
});
