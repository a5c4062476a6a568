import { connectAllocator, type AllocatorClients } from '@atoll/api';
import { binPath, cleanupNetnsWithPrefix, DemoCluster } from '@atoll/test-tools';
import path from 'node:path';
import { execPluginRaw, PLUGIN_PATH_ENV } from '../../../tools/chaos';
import { caseTest, expand, loadCorpus, messagesOf, type CorpusCase } from './support/corpus';

// Hostile and broken input on the CNI path, every case through the real binaries:
// atoll-ipam exec'd with the case's environment and stdin → the node agent → the
// allocator → etcd. Each case must fail with its CNI code and a message naming the
// problem, print nothing but the error object on stdout, and leave the datastore exactly
// as it was (no address, no handle).
const PREFIX = 'atoll-e2h-';

interface CniInput {
  /** Overrides of the CNI environment; null unsets a variable. */
  readonly env?: Record<string, string | null>;
  /** CNI_ARGS (default: IgnoreUnknown=1 and the pod's namespace and name). */
  readonly args?: string;
  /** Raw stdin instead of the network configuration built from config/ipam. */
  readonly stdin?: string;
  /** Merged into the network configuration; null deletes a key. */
  readonly config?: Record<string, unknown>;
  /** Merged into the configuration's ipam section; null deletes a key. */
  readonly ipam?: Record<string, unknown>;
  /** Annotations of the pod (created in the Kubernetes API before the ADD). */
  readonly annotations?: Record<string, string>;
  /** Annotations of the pod's namespace (created for the case). */
  readonly namespaceAnnotations?: Record<string, string>;
  /** Do not create the pod in the Kubernetes API. */
  readonly noPod?: boolean;
}

const FILES = ['cni-env.json', 'cni-stdin.json', 'cni-args.json', 'annotations.json'];

function merge(base: Record<string, unknown>, over: Record<string, unknown> | undefined): Record<string, unknown> {
  const out = { ...base };
  for (const [k, v] of Object.entries(over ?? {})) {
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out;
}

describe('hostile input on the CNI path (plugin → agent → allocator)', () => {
  let cluster: DemoCluster;
  let client: AllocatorClients;
  let seq = 0;

  /**
   * What "nothing was allocated" is compared on: every allocation (address and handle), the
   * number of handles, and the consistency check. Blocks are not compared: a block claimed
   * for the node stays affine to it, as in Calico, even when a request is then refused.
   */
  const datastoreState = async () => {
    const [listed, check] = await Promise.all([client.ipam.listAllocations({ node: '', handlePrefix: '' }), client.ipam.check({})]);
    const allocations = listed.allocations.map((a) => `${a.address} ${a.handleId}`).sort();
    return { allocations, handles: check.handles, problems: check.problems };
  };

  beforeAll(async () => {
    await cleanupNetnsWithPrefix(PREFIX);
    cluster = await DemoCluster.start({ prefix: PREFIX, nodes: ['node-1'] });
    client = connectAllocator(cluster.allocator.address);
    const pool = (name: string, spec: string) => `apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n  name: ${name}\nspec:\n${spec}`;
    const applied = await cluster.atollctl(['apply', '-f', '-'], [
      pool('hostile-v4', '  cidr: 10.88.0.0/16\n'),
      pool('hostile-v6', '  cidr: fd00:88::/64\n'),
      pool('hostile-manual', '  cidr: 10.77.0.0/24\n  nodeSelector: "!all()"\n'),
      pool('hostile-disabled', '  cidr: 10.66.0.0/24\n  disabled: true\n'),
    ].join('---\n'));
    expect(applied).toMatchObject({ code: 0 });
    await cluster.kube.createPod({ metadata: { name: 'holder', namespace: 'hostile', annotations: { 'cni.projectcalico.org/ipAddrs': '["10.88.255.1"]' } }, spec: { nodeName: 'node-1' } });
    await attachHolder();
  }, 120_000);

  /** A running pod holding 10.88.255.1, for the cases that ask for an address in use (re-attached if a defect released it). */
  async function attachHolder() {
    const r = await cluster.ipamOnly({ node: 'node-1', name: 'holder', namespace: 'hostile', containerId: 'holder' });
    if (r.code !== 0 && !(r.json as { code?: number } | undefined)?.code) throw new Error(`cannot attach the holder pod: ${r.stdout}`);
  }

  afterAll(async () => {
    client?.close();
    await cluster?.stop();
    expect(await cleanupNetnsWithPrefix(PREFIX)).toEqual([]);
  });

  async function run(c: CorpusCase<CniInput>) {
    const n = ++seq;
    const pod = `hostile-${n}`;
    const containerId = `hostile-${n}`;
    const socket = cluster.node('node-1').agent.socket;
    const raw = c.input as CniInput;
    const namespace = raw.namespaceAnnotations ? `hostile-ns-${n}` : 'hostile';
    const input = expand(raw, { SOCKET: socket, POD: pod, NAMESPACE: namespace, HANDLE: `k8s-pod-network.${containerId}` }) as CniInput;
    if (input.namespaceAnnotations) await cluster.kube.createNamespace({ metadata: { name: namespace, annotations: input.namespaceAnnotations } });
    if (!input.noPod) await cluster.kube.createPod({ metadata: { name: pod, namespace, annotations: input.annotations ?? {} }, spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'none' }] } });

    const env: Record<string, string> = {
      PATH: PLUGIN_PATH_ENV,
      CNI_COMMAND: 'ADD',
      CNI_CONTAINERID: containerId,
      CNI_NETNS: '/var/run/netns/hostile',
      CNI_IFNAME: 'eth0',
      CNI_ARGS: input.args ?? `IgnoreUnknown=1;K8S_POD_NAMESPACE=${namespace};K8S_POD_NAME=${pod}`,
      CNI_PATH: path.dirname(binPath('atoll-ipam')),
    };
    for (const [k, v] of Object.entries(input.env ?? {})) {
      if (v === null) delete env[k];
      else env[k] = v;
    }
    const base = { cniVersion: '1.0.0', name: 'k8s-pod-network', type: 'bridge', ipam: { type: 'atoll-ipam', agent_socket: socket } };
    const config = merge(base, input.config);
    if (input.ipam) config['ipam'] = merge(base.ipam, input.ipam);
    const stdin = input.stdin ?? JSON.stringify(config);

    const before = await datastoreState();
    const out = await execPluginRaw({ env, stdin, boundMs: 30_000 });
    const after = await datastoreState();
    if (JSON.stringify(after) !== JSON.stringify(before)) {
      // clean up after a defect so that it does not spill into the next case
      await cluster.ipamOnly({ node: 'node-1', name: pod, namespace, command: 'DEL', containerId });
      await attachHolder();
    }
    if (!input.noPod) await cluster.kube.deletePod(namespace, pod).catch(() => undefined);
    return { out, before, after };
  }

  for (const file of FILES) {
    const corpus = loadCorpus<CniInput>(file);
    describe(`${file}: ${corpus.description}`, () => {
      for (const c of corpus.cases) {
        caseTest(c)(`refuses ${c.name} with code ${c.expect.code}${c.knownBug ? ` (known bug: ${c.knownBug})` : ''}`, async () => {
          const { out, before, after } = await run(c);
          expect(out.hung).toBe(false);
          expect(out.exitCode).toBe(1);
          const error = JSON.parse(out.stdout) as { cniVersion?: string; code?: number; msg?: string; details?: string };
          expect(Object.keys(error).every((k) => ['cniVersion', 'code', 'msg', 'details'].includes(k))).toBe(true);
          expect({ code: error.code, msg: error.msg }).toMatchObject({ code: c.expect.code });
          const text = `${error.msg ?? ''}\n${error.details ?? ''}`;
          for (const part of messagesOf(c.expect)) expect(text).toContain(part);
          expect(after).toEqual(before);
        });
      }
    });
  }
});
