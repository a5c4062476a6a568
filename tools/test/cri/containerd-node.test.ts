import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createNetns, listNetnsWithPrefix, type Netns } from '../../netns/netns';
import { CriError } from '../../cri/cri-client';
import { CRI_NAMESPACE, fillCniBinDir, startContainerdNode, type ContainerdNode } from '../../cri/containerd-node';
import { cniResultFiles, isProcessAlive, mountsUnder, processesMentioningPath, shimSocketPath } from '../../cri/host-state';
import { createRunPrefix, createRunWorkDir, removeRunDir, sweepStaleRuns } from '../../cri/run-scope';
import { cgroupDirsOf, writeBridgeConflist } from './support/cri-fixtures';

// One containerd "node" per network namespace, driven through the CRI as the kubelet does,
// with Debian's bridge and host-local plugins. Needs root, containerd, runc and busybox-static
// (tools/install-system-deps.sh); a missing one fails the start with its name.

jest.setTimeout(60_000);

const SUBNET = '10.250.1.0/24';
/** host-local hands out .2 only (.1 is the gateway): the second sandbox's ADD fails, and its DEL succeeds. */
const ONE_ADDRESS_SUBNET = '10.250.9.0/30';

describe('a containerd node in a network namespace', () => {
  const prefix = createRunPrefix();
  let work: string;
  let cniBin: string;
  const namespaces: Netns[] = [];
  const nodes: ContainerdNode[] = [];
  let good: ContainerdNode;
  let full: ContainerdNode;
  let missing: ContainerdNode;

  async function startNode(name: string, confDir: string): Promise<ContainerdNode> {
    const ns = await createNetns(`${prefix}${name}`);
    namespaces.push(ns);
    const node = await startContainerdNode({ name, netnsPath: ns.path, workDir: work, cniBinDir: cniBin, cniConfDir: path.join(work, confDir) });
    nodes.push(node);
    return node;
  }

  beforeAll(async () => {
    await sweepStaleRuns();
    work = createRunWorkDir(prefix);
    cniBin = path.join(work, 'cni-bin');
    // loopback is called for every sandbox: a wrapper records the environment plugins get
    const recorder = path.join(work, 'loopback-recorder');
    fs.writeFileSync(recorder, `#!/bin/sh\nenv > "${work}/loopback-env-$CNI_COMMAND"\nexec /usr/lib/cni/loopback "$@"\n`, { mode: 0o755 });
    fillCniBinDir(cniBin, { loopback: recorder });
    const ipam = (name: string) => path.join(work, `ipam-${name}`);
    writeBridgeConflist(path.join(work, 'conf-good'), { name: 'goodnet', bridge: 'cni0', subnet: SUBNET, dataDir: ipam('good') });
    writeBridgeConflist(path.join(work, 'conf-full'), { name: 'fullnet', bridge: 'cni0', subnet: ONE_ADDRESS_SUBNET, dataDir: ipam('full') });
    writeBridgeConflist(path.join(work, 'conf-missing'), { name: 'missingnet', bridge: 'cni0', subnet: SUBNET, dataDir: ipam('missing'), ipamType: 'atoll-missing-ipam' });
    [good, full, missing] = await Promise.all([startNode('good', 'conf-good'), startNode('full', 'conf-full'), startNode('missing', 'conf-missing')]);
  });

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await Promise.all(namespaces.map((ns) => ns.delete()));
    await removeRunDir(work);
  });

  it('answers Version over the CRI socket as containerd 1.6 speaking CRI v1', async () => {
    const v = await good.cri.version();
    expect(v.runtimeName).toBe('containerd');
    expect(v.runtimeApiVersion).toBe('v1');
  });

  it('runs a sandbox with bridge and host-local: ready, an address from the range, its network namespace on disk', async () => {
    const id = await good.cri.runPodSandbox({ name: 'web-0', namespace: 'default', uid: 'uid-web-0' });
    const st = await good.cri.podSandboxStatus(id);
    expect(st).toMatchObject({ id, state: 'SANDBOX_READY', name: 'web-0', namespace: 'default', uid: 'uid-web-0' });
    expect(st.ip).toMatch(/^10\.250\.1\.\d+$/);
    expect(st.netnsPath.startsWith(`${good.paths.state}/`)).toBe(true);
    expect(mountsUnder(good.dir)).toContain(st.netnsPath);
    const eth0 = ((st.info['cniResult'] as { Interfaces: Record<string, { IPConfigs: { IP: string }[] | null }> }).Interfaces['eth0']);
    expect(eth0?.IPConfigs?.[0]?.IP).toBe(st.ip);
    expect(cgroupDirsOf(`${good.cgroupParent}/${id}`).length).toBeGreaterThan(0);

    await good.cri.stopPodSandbox(id);
    await good.cri.stopPodSandbox(id); // the kubelet stops more than once
    expect((await good.cri.podSandboxStatus(id)).state).toBe('SANDBOX_NOTREADY');
    expect(mountsUnder(good.dir)).not.toContain(st.netnsPath);
    await good.cri.removePodSandbox(id);
    await good.cri.removePodSandbox(id);
    expect(await good.cri.listPodSandbox()).toEqual([]);
    await expect(good.cri.podSandboxStatus(id)).rejects.toMatchObject({ name: 'CriError', details: expect.stringContaining('not found') });
  });

  it('runs the CNI plugins with the kubelet-like CNI_ARGS and a PATH that holds no node binary', async () => {
    const id = await good.cri.runPodSandbox({ name: 'env-0', namespace: 'team-a', uid: 'uid-env-0' });
    const env = Object.fromEntries(
      fs.readFileSync(path.join(work, 'loopback-env-ADD'), 'utf8').trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    await good.cri.stopPodSandbox(id);
    await good.cri.removePodSandbox(id);
    expect(env['CNI_CONTAINERID']).toBe(id);
    expect(new Set(env['CNI_ARGS']!.split(';'))).toEqual(new Set(['IgnoreUnknown=1', 'K8S_POD_NAMESPACE=team-a', 'K8S_POD_NAME=env-0', `K8S_POD_INFRA_CONTAINER_ID=${id}`, 'K8S_POD_UID=uid-env-0']));
    const dirs = env['PATH']!.split(':');
    expect(dirs.some((d) => fs.existsSync(path.join(d, 'node')))).toBe(false);
    expect(dirs).not.toContain(path.dirname(process.execPath));
  });

  it('rejects RunPodSandbox with containerd\'s message when CNI ADD fails, and keeps no sandbox when DEL succeeds', async () => {
    const first = await full.cri.runPodSandbox({ name: 'first', namespace: 'default', uid: 'uid-first' });
    expect((await full.cri.podSandboxStatus(first)).ip).toBe('10.250.9.2');
    const err = await full.cri.runPodSandbox({ name: 'second', namespace: 'default', uid: 'uid-second' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CriError);
    expect((err as CriError).details).toMatch(/failed to setup network for sandbox .*no IP addresses available in range set: 10\.250\.9\.1-10\.250\.9\.2/);
    expect((await full.cri.listPodSandbox()).map((s) => s.name)).toEqual(['first']);
    const netnsDir = path.join(full.paths.state, 'io.containerd.grpc.v1.cri', 'netns');
    expect(fs.readdirSync(netnsDir)).toHaveLength(1); // the first sandbox's only
  });

  it('keeps a not-ready sandbox when CNI DEL fails after a failed ADD (a missing IPAM plugin fails both)', async () => {
    const err = await missing.cri.runPodSandbox({ name: 'broken-0', namespace: 'default', uid: 'uid-broken-0' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CriError);
    expect((err as CriError).details).toMatch(/failed to setup network for sandbox .*failed to find plugin "atoll-missing-ipam" in path/);
    // containerd keeps what it could not clean up, as the kubelet would see it
    expect((await missing.cri.listPodSandbox()).map((s) => [s.name, s.state])).toEqual([['broken-0', 'SANDBOX_NOTREADY']]);
    await expect(missing.cri.stopPodSandbox((await missing.cri.listPodSandbox())[0]!.id)).rejects.toMatchObject({
      details: expect.stringMatching(/failed to destroy network for sandbox .*failed to find plugin "atoll-missing-ipam"/),
    });
  });

  it('stop() removes sandboxes still running, with their mounts, cgroups, shim sockets and CNI cache entries', async () => {
    {
      const node = await startNode('stop', 'conf-good');
      const ids = [
        await node.cri.runPodSandbox({ name: 'a', namespace: 'default', uid: 'uid-a' }),
        await node.cri.runPodSandbox({ name: 'b', namespace: 'default', uid: 'uid-b' }),
      ];
      const shimSockets = ids.map((id) => shimSocketPath(node.socket, CRI_NAMESPACE, id));
      expect(shimSockets.every((s) => fs.existsSync(s))).toBe(true);
      expect(cniResultFiles(ids)).toHaveLength(4); // per sandbox: containerd's loopback network and goodnet
      expect(processesMentioningPath(node.dir).length).toBeGreaterThanOrEqual(3); // containerd and a shim per sandbox

      const report = await node.stop();
      expect(report).toEqual({ sandboxIds: expect.arrayContaining(ids), problems: [] });
      expect(isProcessAlive(node.pid)).toBe(false);
      expect(processesMentioningPath(node.dir)).toEqual([]);
      expect(shimSockets.filter((s) => fs.existsSync(s))).toEqual([]);
      expect(cniResultFiles(ids)).toEqual([]);
      expect(cgroupDirsOf(node.cgroupParent)).toEqual([]);
      expect(mountsUnder(node.dir)).toEqual([]);
      expect(fs.existsSync(node.dir)).toBe(false);
      expect(await node.stop()).toBe(report);
    }
  });

  it('a sweep after a crash removes the dead run\'s containerd leftovers: containers, shims, mounts, cgroups, namespaces', async () => {
    // a run whose owner is gone: a PID that has exited
    const deadPid = spawnSync('true').pid!;
    expect(isProcessAlive(deadPid)).toBe(false);
    const base = `${prefix}crash-`;
    const crashed = `${base}${deadPid}xdead-`;
    const crashedWork = path.join(os.tmpdir(), `${crashed}work`);
    const ns = await createNetns(`${crashed}n`);
    namespaces.push(ns);
    const node = await startContainerdNode({ name: 'n', netnsPath: ns.path, workDir: crashedWork, cniBinDir: cniBin, cniConfDir: path.join(work, 'conf-good') });
    nodes.push(node);
    const id = await node.cri.runPodSandbox({ name: 'orphan', namespace: 'default', uid: 'uid-orphan' });
    const sandboxPid = (await node.cri.podSandboxStatus(id)).info['pid'] as number;
    node.cri.close();
    process.kill(node.pid, 'SIGKILL'); // the crash: containerd dies, its shim and the sandbox keep running
    await new Promise((r) => setTimeout(r, 100));
    expect(isProcessAlive(sandboxPid)).toBe(true);

    const report = await sweepStaleRuns(base);
    expect(report.problems).toEqual([]);
    expect(report.namespaces).toEqual([`${crashed}n`]);
    expect(report.dirs).toEqual([crashedWork]);
    expect(isProcessAlive(sandboxPid)).toBe(false);
    expect(processesMentioningPath(crashedWork)).toEqual([]);
    expect(fs.existsSync(shimSocketPath(node.socket, CRI_NAMESPACE, id))).toBe(false);
    expect(cniResultFiles([id])).toEqual([]);
    expect(cgroupDirsOf(node.cgroupParent)).toEqual([]);
    expect(mountsUnder(crashedWork)).toEqual([]);
    expect(fs.existsSync(crashedWork)).toBe(false);
    expect(listNetnsWithPrefix(crashed)).toEqual([]);
  });

  it('leaves nothing behind: no containerd, no namespaces with the run prefix, no mounts, no cgroups', async () => {
    const reports = await Promise.all([good.stop(), full.stop(), missing.stop()]);
    expect(reports[0]!.problems).toEqual([]);
    expect(reports[1]!.problems).toEqual([]);
    // the sandbox whose DEL cannot succeed is reported, and removed the hard way
    expect(reports[2]!.problems).toEqual([expect.stringMatching(/^sandbox [0-9a-f]{64} \(default\/broken-0\): .*failed to find plugin/)]);
    await Promise.all(namespaces.map((ns) => ns.delete()));
    expect(processesMentioningPath(work)).toEqual([]);
    expect(listNetnsWithPrefix(prefix)).toEqual([]);
    expect(mountsUnder(work)).toEqual([]);
    expect(nodes.flatMap((n) => cgroupDirsOf(n.cgroupParent))).toEqual([]);
    expect(cniResultFiles(reports.flatMap((r) => r.sandboxIds))).toEqual([]);
  });
});
