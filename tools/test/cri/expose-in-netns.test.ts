import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createNetns, listNetnsWithPrefix, runCommand, type Netns } from '../../netns/netns';
import { exposeInNetns, type ExposedPort } from '../../cri/expose-in-netns';
import { isProcessAlive } from '../../cri/host-state';
import { createRunPrefix, sweepStaleRuns } from '../../cri/run-scope';

// A process inside a node namespace reaching a root-namespace loopback server (as a node
// agent reaches the allocator or the Kubernetes API stand-in). The client is a Node one-liner
// run inside the namespace (busybox 1.35's wget crashes here).

jest.setTimeout(30_000);

describe('exposeInNetns', () => {
  const prefix = createRunPrefix();
  let ns: Netns;
  let server: http.Server;
  let targetPort: number;
  let exposed: ExposedPort | undefined;

  const GET = `require('node:http').get(process.argv[1], { timeout: 2000 }, (res) => res.pipe(process.stdout)).on('error', () => process.exit(7)).on('timeout', () => process.exit(8));`;
  const getInside = (url: string) => runCommand('nsenter', [`--net=${ns.path}`, process.execPath, '-e', GET, url]);

  beforeAll(async () => {
    await sweepStaleRuns();
    ns = await createNetns(`${prefix}node`);
    server = http.createServer((req, res) => res.end(`hello from the root namespace: ${req.method} ${req.url}`));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    targetPort = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await exposed?.stop();
    await ns?.delete();
    await new Promise((resolve) => server.close(resolve));
  });

  it('cannot reach the root namespace loopback from inside the namespace without it', async () => {
    expect((await getInside(`http://127.0.0.1:${targetPort}/`)).code).not.toBe(0);
  });

  it('carries an HTTP request from inside the namespace to the root-namespace loopback server', async () => {
    exposed = await exposeInNetns({ netnsPath: ns.path, targetPort });
    expect(exposed.address).toBe(`127.0.0.1:${exposed.port}`);
    const r = await getInside(`http://${exposed.address}/pods?watch=1`);
    expect(r.stdout).toBe('hello from the root namespace: GET /pods?watch=1');
  });

  it('listens on the port asked for', async () => {
    const fixed = await exposeInNetns({ netnsPath: ns.path, targetPort, listenPort: 18080 });
    try {
      expect(fixed.address).toBe('127.0.0.1:18080');
      expect((await getInside('http://127.0.0.1:18080/x')).stdout).toBe('hello from the root namespace: GET /x');
    } finally {
      await fixed.stop();
    }
  });

  it('stops its forwarder by PID, after which the address refuses connections', async () => {
    const e = exposed!;
    await e.stop();
    expect(isProcessAlive(e.pid)).toBe(false);
    expect((await getInside(`http://${e.address}/`)).code).not.toBe(0);
    await ns.delete();
    expect(listNetnsWithPrefix(prefix)).toEqual([]);
  });
});
