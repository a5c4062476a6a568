import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cidrContains, parseCidr, parseIp } from '@atoll/ipmath';
import { connectAllocator, IntendedUse, type AllocatorClients } from '@atoll/api';
import { startKubeApiStandIn, type KubeApiStandIn } from '../../../tools/k8s-api';
import { agentRequest, binPath, startAgentProcess, type AgentProcess } from '../../../tools/src/processes';
import { ALLOCATOR_BIN, ATOLLCTL_BIN, startStack, type Stack } from './stack';

// `atollctl ipam explain` as a process: the pod and its namespace from the Kubernetes API
// stand-in through a kubeconfig, the decision from atoll-allocator, and — to prove explain
// and the real ADD share their reasoning — the real ADD through atoll-node-agent after it.

interface ExplainJson {
  pod: string;
  node: string;
  applied: { source: string; annotation: string; value: string }[];
  specificAddresses: { annotation: string; value: string } | null;
  families: { version: number; pools: { name: string; verdict: string; reason: string; detail: string }[]; addresses: { ip: string; pool: string; block: string; blockChoice: string }[] }[];
  error: { code: string; message: string } | null;
  current: { ip: string; kind: string; rule: string; assignedAt: string }[];
}

const resource = (kind: string, name: string, spec: Record<string, unknown>, labels?: Record<string, string>) =>
  JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind, metadata: { name, ...(labels && { labels }) }, spec });
const NETCONF = JSON.stringify({ cniVersion: '1.0.0', name: 'k8s-pod-network', plugins: [{ type: 'bridge', ipam: { type: 'atoll-ipam' } }] });

beforeAll(() => {
  for (const bin of [ATOLLCTL_BIN, ALLOCATOR_BIN, binPath('atoll-node-agent')]) {
    if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: run 'npx nx run-many -t build' first`);
  }
});

describe('atollctl ipam explain against a running allocator and node agent', () => {
  let api: KubeApiStandIn;
  let stack: Stack;
  let c: AllocatorClients;
  let agent: AgentProcess;
  let dir: string;
  let cniConf: string;
  const explain = async (ns: string, pod: string, ...extra: string[]): Promise<ExplainJson> => {
    const r = await stack.ctl(['ipam', 'explain', `--namespace=${ns}`, `--pod=${pod}`, `--kubeconfig=${api.kubeconfigPath}`, ...extra, '-o', 'json']);
    if (r.code !== 0) throw new Error(`explain ${ns}/${pod} failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as ExplainJson;
  };
  const verdicts = (e: ExplainJson) => Object.fromEntries(e.families[0]!.pools.map((p) => [p.name, p.verdict === 'skipped' ? p.reason : p.verdict]));
  const pod = (ns: string, name: string, annotations: Record<string, string> = {}) => api.createPod({ metadata: { name, namespace: ns, annotations }, spec: { nodeName: 'node-1' } });
  const add = (ns: string, name: string) =>
    agentRequest(agent.socket, {
      command: 'ADD',
      containerId: `c-${ns}-${name}`,
      ifname: 'eth0',
      netns: '/var/run/netns/none',
      args: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${ns};K8S_POD_NAME=${name}`,
      networkConfig: JSON.stringify({ cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'bridge', ipam: { type: 'atoll-ipam' } }),
    });

  beforeAll(async () => {
    api = await startKubeApiStandIn();
    stack = await startStack();
    c = connectAllocator(stack.address);
    await api.createNode({ metadata: { name: 'node-1', labels: { rack: 'r1' } } });
    await api.createNode({ metadata: { name: 'node-2', labels: { rack: 'r2' } } });
    await c.resources.apply({ resourceJson: resource('Node', 'node-2', {}, { rack: 'r2' }) });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atoll-explain-'));
    cniConf = path.join(dir, '10-atoll.conflist');
    fs.writeFileSync(cniConf, NETCONF);
    agent = await startAgentProcess({ nodeName: 'node-1', allocator: stack.address, socket: path.join(dir, 'run/agent.sock'), kubeconfig: api.kubeconfigPath });
    // the agent registers node-1 with its Kubernetes labels
    for (let i = 0; i < 100; i++) {
      const node = await c.resources.get({ kind: 'Node', name: 'node-1' }).then((r) => JSON.parse(r.resourceJson), () => undefined);
      if (node?.metadata?.labels?.rack === 'r1') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await api.createNamespace({ metadata: { name: 'red', labels: { team: 'red' } } });
    await api.createNamespace({ metadata: { name: 'blue', labels: { team: 'blue' }, annotations: { 'cni.projectcalico.org/ipv4pools': '["c-blue"]' } } });
  }, 60_000);

  afterAll(async () => {
    await agent?.stop('SIGTERM');
    c?.close();
    await stack?.stop();
    await api?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  describe('with a pool for every reason to skip one', () => {
    beforeAll(async () => {
      const pools: [string, Record<string, unknown>][] = [
        ['a-disabled', { cidr: '10.50.0.0/24', disabled: true }],
        ['b-rack2', { cidr: '10.51.0.0/24', nodeSelector: 'rack == "r2"' }],
        ['c-blue', { cidr: '10.52.0.0/24', namespaceSelector: 'team == "blue"' }],
        ['d-tunnel', { cidr: '10.53.0.0/24', allowedUses: ['Tunnel'] }],
        ['e-manual', { cidr: '10.54.0.0/24', assignmentMode: 'Manual' }],
        ['f-full', { cidr: '10.55.0.0/30', blockSize: 30 }],
        ['g-reserved', { cidr: '10.56.0.0/30', blockSize: 30 }],
        ['h-main', { cidr: '10.57.0.0/28', blockSize: 30 }],
      ];
      for (const [name, spec] of pools) await c.resources.apply({ resourceJson: resource('IPPool', name, spec) });
      await c.resources.apply({ resourceJson: resource('IPReservation', 'all-of-g', { reservedCIDRs: ['10.56.0.0/30'] }) });
      for (let i = 0; i < 4; i++) {
        await c.ipam.assignIp({ ip: `10.55.0.${i}`, handleId: `fill-${i}`, attributes: { node: 'node-2' }, hostname: 'node-2', intendedUse: IntendedUse.INTENDED_USE_WORKLOAD });
      }
      await pod('red', 'web');
      await pod('red', 'pinned', { 'cni.projectcalico.org/ipv4pools': '["f-full"]' });
      await pod('blue', 'inherits');
      await pod('blue', 'overrides', { 'cni.projectcalico.org/ipv4pools': '["h-main"]' });
      await pod('red', 'fixed', { 'cni.projectcalico.org/ipAddrs': '["10.57.0.9"]' });
    }, 30_000);

    it('gives each pool its verdict and the block the address would come from, allocating nothing', async () => {
      const before = (await c.ipam.listAllocations({ node: '', handlePrefix: '' })).allocations.length;
      const e = await explain('red', 'web', `--cni-conf=${cniConf}`);
      expect(e.node).toBe('node-1');
      expect(verdicts(e)).toEqual({
        'a-disabled': 'disabled',
        'b-rack2': 'node-selector',
        'c-blue': 'namespace-selector',
        'd-tunnel': 'allowed-uses',
        'e-manual': 'manual-assignment',
        'f-full': 'full',
        'g-reserved': 'reservation',
        'h-main': 'selected',
      });
      expect(e.families[0]!.addresses).toEqual([expect.objectContaining({ pool: 'h-main', blockChoice: 'new' })]);
      expect(e.error).toBeNull();
      expect((await c.ipam.listAllocations({ node: '', handlePrefix: '' })).allocations.length).toBe(before);
      const text = await stack.ctl(['ipam', 'explain', '--namespace=red', '--pod=web'], { env: { KUBECONFIG: api.kubeconfigPath } });
      expect(text.stdout).toMatch(/^Pod red\/web on node node-1\n/);
      expect(text.stdout).toContain("CNI configuration: none given (Calico's defaults: IPv4 only, any qualifying pool)");
      expect(text.stdout).toMatch(/\n {2}b-rack2 +10\.51\.0\.0\/24 +skipped +node-selector: nodeSelector "rack == \\"r2\\"" does not match node node-1\n/);
      expect(text.stdout).toMatch(/\nAddress: 10\.57\.0\.\d+ from pool h-main, block 10\.57\.0\.\d+\/30 \(a new block this node would claim\)\n/);
    });

    it('applies namespace annotations, then the pod\'s over them, and says which pools were not requested', async () => {
      const inherits = await explain('blue', 'inherits');
      expect(inherits.applied).toEqual([{ source: 'namespace', annotation: 'cni.projectcalico.org/ipv4pools', value: '["c-blue"]' }]);
      expect(verdicts(inherits)).toMatchObject({ 'c-blue': 'selected', 'h-main': 'not-requested', 'a-disabled': 'disabled' });
      const overrides = await explain('blue', 'overrides');
      expect(overrides.applied.map((a) => a.source)).toEqual(['namespace', 'pod']);
      expect(verdicts(overrides)).toMatchObject({ 'c-blue': 'not-requested', 'h-main': 'selected' });
    });

    it('gives the exact error the ADD then fails with', async () => {
      const e = await explain('red', 'pinned');
      expect(verdicts(e)['f-full']).toBe('full');
      const real = await add('red', 'pinned');
      expect(e.error?.message).toBe(real.error?.msg);
      expect(real.error?.msg).toMatch(/^failed to assign an IP address: failed to request IPv4 addresses: Assigned 0 out of 1 requested IPv4 addresses; No IPs available in pools: \[10\.55\.0\.0\/30\]$/);
    });

    it('says a pod asking for a specific address gets no pool, and which rule chose the addresses a pod holds', async () => {
      const fixed = await explain('red', 'fixed');
      expect(fixed.specificAddresses).toEqual({ annotation: 'cni.projectcalico.org/ipAddrs', value: '["10.57.0.9"]' });
      expect((await add('red', 'fixed')).error).toBeUndefined();
      expect((await explain('red', 'fixed')).current).toEqual([{ ip: '10.57.0.9', kind: 'static', rule: 'the cni.projectcalico.org/ipAddrs annotation (a specific address)', assignedAt: expect.stringMatching(/Z$/) }]);
      const added = await add('red', 'web');
      const ip = (JSON.parse(added.result!) as { ips: { address: string }[] }).ips[0]!.address.split('/')[0]!;
      const web = await explain('red', 'web');
      expect(web.current).toEqual([{ ip, kind: 'auto', rule: 'automatic assignment from pool h-main', assignedAt: expect.stringMatching(/Z$/) }]);
      // the node now holds a block with room: the next pod's address would come from it
      expect(web.families[0]!.addresses[0]!.blockChoice).toBe('affine');
    });

    it('says the node reached its block limit', async () => {
      expect((await stack.ctl(['ipam', 'configure', '--strictaffinity=true', '--max-blocks-per-host=1'])).code).toBe(0);
      try {
        for (let i = 0; i < 4; i++) await pod('red', `filler-${i}`).then(() => add('red', `filler-${i}`));
        await pod('red', 'late');
        const e = await explain('red', 'late');
        expect(verdicts(e)['h-main']).toBe('block-limit');
        const real = await add('red', 'late');
        expect(e.error?.message).toBe(real.error?.msg);
      } finally {
        await stack.ctl(['ipam', 'configure', '--strictaffinity=false', '--max-blocks-per-host=0']);
      }
    });
  });

  it.each([
    [['--pod=web'], 2, "atollctl: flags --namespace and --pod are required; see 'atollctl ipam explain --help'\n"],
    [['--namespace=red', '--pod=nobody', '--kubeconfig=KUBECONFIG'], 1, /^atollctl: pod red\/nobody not found in the Kubernetes API at http:\/\/127\.0\.0\.1:\d+\n$/],
    [['--namespace=red', '--pod=web', '--kubeconfig=/nonexistent/kubeconfig'], 1, /^atollctl: cannot read the kubeconfig \/nonexistent\/kubeconfig: /],
  ] as const)('refuses %j with a clear error', async (args, code, stderr) => {
    const r = await stack.ctl(['ipam', 'explain', ...args.map((a) => a.replace('KUBECONFIG', api.kubeconfigPath))]);
    expect(r.code).toBe(code);
    expect(r.stdout).toBe('');
    if (typeof stderr === 'string') expect(r.stderr).toBe(stderr);
    else expect(r.stderr).toMatch(stderr);
  });

  it('predicts the pool of the address the real ADD then returns, for random pools, labels and annotations', async () => {
    let seed = 1515;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const outcomes = { assigned: 0, refused: 0 };
    let previous: [string, Record<string, unknown>][] = [];
    for (let round = 0; round < 6; round++) {
      // this round's pools only: the earlier ones are disabled
      for (const [name, spec] of previous) await c.resources.apply({ resourceJson: resource('IPPool', name, { ...spec, disabled: true }) });
      previous = [];
      const count = 1 + rand(3);
      for (let i = 0; i < count; i++) {
        const spec = {
          cidr: `10.${120 + round}.${i}.0/29`,
          blockSize: 30,
          ...(rand(5) === 0 && { disabled: true }),
          ...(rand(3) === 0 && { nodeSelector: `rack == "${['r1', 'r2'][rand(2)]}"` }),
          ...(rand(3) === 0 && { namespaceSelector: `team == "${['red', 'blue'][rand(2)]}"` }),
          ...(rand(6) === 0 && { allowedUses: ['Tunnel'] }),
        };
        previous.push([`r${round}-p${i}`, spec]);
        await c.resources.apply({ resourceJson: resource('IPPool', `r${round}-p${i}`, spec) });
      }
      const names = previous.map(([n]) => n);
      const nsName = `ns-${round}`;
      const nsAnnotation: Record<string, string> = rand(3) === 0 ? { 'cni.projectcalico.org/ipv4pools': JSON.stringify([names[rand(names.length)]]) } : {};
      await api.createNamespace({ metadata: { name: nsName, labels: { team: ['red', 'blue'][rand(2)]! }, annotations: nsAnnotation } });
      for (let p = 0; p < 4; p++) {
        const podAnnotation: Record<string, string> = rand(4) === 0 ? { 'cni.projectcalico.org/ipv4pools': JSON.stringify([names[rand(names.length)]]) } : {};
        await pod(nsName, `pod-${p}`, podAnnotation);
        const predicted = await explain(nsName, `pod-${p}`, `--cni-conf=${cniConf}`);
        const real = await add(nsName, `pod-${p}`);
        if (real.error) {
          expect(predicted.error?.message).toBe(real.error.msg);
          outcomes.refused++;
        } else {
          const ip = parseIp((JSON.parse(real.result!) as { ips: { address: string }[] }).ips[0]!.address.split('/')[0]!);
          const pool = previous.find(([, spec]) => cidrContains(parseCidr(spec['cidr'] as string), ip))![0];
          expect(predicted.error).toBeNull();
          expect(predicted.families[0]!.pools.filter((v) => v.verdict === 'selected').map((v) => v.name)).toEqual([pool]);
          outcomes.assigned++;
        }
      }
    }
    // both kinds of outcome were compared
    expect(outcomes.assigned).toBeGreaterThanOrEqual(4);
    expect(outcomes.refused).toBeGreaterThanOrEqual(2);
  }, 120_000);
});
