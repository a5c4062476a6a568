import path from 'node:path';
import { listNetnsWithPrefix, runCommand } from '../../netns/netns';
import { fillCniBinDir, startContainerdNode, type ContainerdNode } from '../../cri/containerd-node';
import { processesMentioningPath } from '../../cri/host-state';
import { createNodeLan, type NodeLan } from '../../cri/node-lan';
import { createRunPrefix, createRunWorkDir, removeRunDir, sweepStaleRuns } from '../../cri/run-scope';
import { pingFrom, writeBridgeConflist } from './support/cri-fixtures';

// Two nodes on one segment, each a containerd in its own namespace with its own host-local
// range; the test adds the routes between the node namespaces that host-gw routing would.

jest.setTimeout(60_000);

const POD_SUBNETS = ['10.251.1.0/24', '10.251.2.0/24'];

describe('two containerd nodes on one segment', () => {
  const prefix = createRunPrefix();
  let work: string;
  let lan: NodeLan;
  const nodes: ContainerdNode[] = [];

  beforeAll(async () => {
    await sweepStaleRuns();
    work = createRunWorkDir(prefix);
    const cniBin = path.join(work, 'cni-bin');
    fillCniBinDir(cniBin);
    lan = await createNodeLan({ prefix, nodes: 2 });
    const started = await Promise.all(
      lan.nodes.map((host, i) => {
        const confDir = path.join(work, `conf-${host.name}`);
        writeBridgeConflist(confDir, { name: 'podnet', bridge: 'cni0', subnet: POD_SUBNETS[i]!, dataDir: path.join(work, `ipam-${host.name}`) });
        return startContainerdNode({ name: host.name, netnsPath: host.netns.path, workDir: work, cniBinDir: cniBin, cniConfDir: confDir });
      }),
    );
    nodes.push(...started);
  });

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await lan?.delete();
    await removeRunDir(work);
  });

  it('puts the nodes and the outside host on one segment, over IPv4 and IPv6 at once', async () => {
    expect(lan.nodes.map((n) => [n.name, n.ipv4, n.ipv6])).toEqual([
      ['node-1', '172.30.0.11', 'fd00:30::11'],
      ['node-2', '172.30.0.12', 'fd00:30::12'],
    ]);
    const [n1, n2] = lan.nodes;
    const results = await Promise.all([n2!.ipv4, n2!.ipv6, lan.outside.ipv4, lan.outside.ipv6].map((a) => pingFrom(n1!.netns.path, a)));
    expect(results).toEqual([0, 0, 0, 0]);
  });

  it('gives the outside host routes to the segment only, and the nodes a default route through it', async () => {
    const routes = async (ns: string, family: '-4' | '-6') => (await runCommand('ip', ['-n', ns, family, 'route', 'show'])).stdout.trim().split('\n');
    expect(await routes(lan.outside.netns.name, '-4')).toEqual([expect.stringMatching(/^172\.30\.0\.0\/24 dev eth0 /)]);
    expect((await routes(lan.outside.netns.name, '-6')).filter((r) => !r.startsWith('fe80::'))).toEqual([expect.stringMatching(/^fd00:30::\/64 dev eth0 /)]);
    expect(await routes(lan.nodes[0]!.netns.name, '-4')).toContain('default via 172.30.0.1 dev eth0 ');
    expect(await routes(lan.nodes[0]!.netns.name, '-6')).toContainEqual(expect.stringMatching(/^default via fd00:30::1 dev eth0 /));
  });

  it('lets pods on different nodes ping each other through routes between the node namespaces', async () => {
    const pods = await Promise.all(
      nodes.map(async (node, i) => {
        const id = await node.cri.runPodSandbox({ name: `pinger-${i}`, namespace: 'default', uid: `uid-pinger-${i}` });
        return node.cri.podSandboxStatus(id);
      }),
    );
    expect(pods[0]!.ip).toMatch(/^10\.251\.1\./);
    expect(pods[1]!.ip).toMatch(/^10\.251\.2\./);
    expect(pods[0]!.netnsPath).not.toBe(pods[1]!.netnsPath);
    // no route yet: the other node's pod range is sent to the outside host, which drops it
    expect(await pingFrom(pods[0]!.netnsPath, pods[1]!.ip)).not.toBe(0);

    const [h1, h2] = lan.nodes;
    await runCommand('ip', ['-n', h1!.netns.name, 'route', 'add', POD_SUBNETS[1]!, 'via', h2!.ipv4]);
    await runCommand('ip', ['-n', h2!.netns.name, 'route', 'add', POD_SUBNETS[0]!, 'via', h1!.ipv4]);
    expect(await pingFrom(pods[0]!.netnsPath, pods[1]!.ip)).toBe(0);
    expect(await pingFrom(pods[1]!.netnsPath, pods[0]!.ip)).toBe(0);
    // without masquerading the outside host cannot answer a pod: it has no route back
    expect(await pingFrom(pods[0]!.netnsPath, lan.outside.ipv4)).not.toBe(0);

    for (const [i, pod] of pods.entries()) {
      await nodes[i]!.cri.stopPodSandbox(pod.id);
      await nodes[i]!.cri.removePodSandbox(pod.id);
    }
  });

  it('leaves nothing behind: no containerd, no namespaces with the run prefix', async () => {
    const reports = await Promise.all(nodes.map((n) => n.stop()));
    expect(reports.map((r) => r.problems)).toEqual([[], []]);
    await lan.delete();
    expect(listNetnsWithPrefix(prefix)).toEqual([]);
    expect(processesMentioningPath(work)).toEqual([]);
  });
});
