import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startKubeApiStandIn, type KubeApiStandIn } from '../../k8s-api';

// The real kubectl (v1.32, /usr/bin/kubectl) against the stand-in: discovery, get, tables,
// selectors, labelling and declarative create.

const KUBECTL = '/usr/bin/kubectl';

interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

describe('kubectl against the stand-in', () => {
  let api: KubeApiStandIn;
  let cacheDir: string;

  /** Runs kubectl with the stand-in's kubeconfig and a private discovery cache (not ~/.kube). */
  const kubectl = (args: string[], stdin?: string) =>
    new Promise<KubectlResult>((resolve) => {
      const child = execFile(
        KUBECTL,
        ['--kubeconfig', api.kubeconfigPath, '--cache-dir', cacheDir, ...args],
        { timeout: 20_000 },
        (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
      if (stdin !== undefined) child.stdin!.end(stdin);
    });

  beforeEach(async () => {
    api = await startKubeApiStandIn();
    cacheDir = mkdtempSync(path.join(tmpdir(), 'atoll-kubectl-cache-'));
    await api.createNamespace('default');
    await api.createNamespace('team-a');
    await api.createPod({ metadata: { namespace: 'default', name: 'web-1', labels: { app: 'web' } }, spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'nginx' }] } });
    await api.createPod({ metadata: { namespace: 'team-a', name: 'db-1', labels: { app: 'db' } }, spec: { nodeName: 'node-2', containers: [{ name: 'c', image: 'pg' }] } });
    await api.setPodStatus('team-a', 'db-1', { phase: 'Running', podIP: '10.0.2.5', podIPs: [{ ip: '10.0.2.5' }] });
  });

  afterEach(async () => {
    await api.stop();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it('kubectl get pods -A -o json lists every pod', async () => {
    const res = await kubectl(['get', 'pods', '-A', '-o', 'json']);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const list = JSON.parse(res.stdout);
    expect(list.kind).toBe('List');
    expect(list.items.map((p: { metadata: { namespace: string; name: string } }) => `${p.metadata.namespace}/${p.metadata.name}`)).toEqual([
      'default/web-1',
      'team-a/db-1',
    ]);
    expect(list.items[1].status.podIP).toBe('10.0.2.5');
  });

  it('kubectl get pod NAME -n NS prints the pod row, and NotFound for a missing pod', async () => {
    const res = await kubectl(['get', 'pod', 'db-1', '-n', 'team-a']);
    expect(res.code).toBe(0);
    const [header, row] = res.stdout.trim().split('\n');
    expect(header!.split(/\s+/)).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    expect(row!.split(/\s+/).slice(0, 4)).toEqual(['db-1', '0/1', 'Running', '0']);

    const missing = await kubectl(['get', 'pod', 'nope', '-n', 'team-a']);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe('Error from server (NotFound): pods "nope" not found');
  });

  it('kubectl get pods -o wide shows pod IPs and nodes; -l and --field-selector filter', async () => {
    const wide = await kubectl(['get', 'pods', '-A', '-o', 'wide']);
    const dbRow = wide.stdout.split('\n').find((l) => l.includes('db-1'))!.split(/\s+/);
    expect(dbRow).toEqual(expect.arrayContaining(['10.0.2.5', 'node-2']));

    const byLabel = await kubectl(['get', 'pods', '-A', '-l', 'app=web', '-o', 'name']);
    expect(byLabel.stdout.trim()).toBe('pod/web-1');
    const byField = await kubectl(['get', 'pods', '-A', '--field-selector', 'spec.nodeName=node-2', '-o', 'name']);
    expect(byField.stdout.trim()).toBe('pod/db-1');
  });

  it('kubectl get namespaces and nodes, label a node, and create one from a manifest', async () => {
    const manifest = JSON.stringify({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'node-1' },
      status: { conditions: [{ type: 'Ready', status: 'True' }], nodeInfo: { kubeletVersion: 'v1.32.0' } },
    });
    // kubectl validates manifests against /openapi, which the stand-in does not serve
    expect((await kubectl(['create', '--validate=false', '-f', '-'], manifest)).stdout.trim()).toBe('node/node-1 created');
    expect((await kubectl(['label', 'node', 'node-1', 'zone=a'])).stdout.trim()).toBe('node/node-1 labeled');
    expect((await api.createNode('node-2')).metadata.name).toBe('node-2');

    const nodes = await kubectl(['get', 'nodes', '-l', 'zone=a']);
    expect(nodes.stdout.trim().split('\n')[1]!.split(/\s+/)).toEqual(['node-1', 'Ready', '<none>', expect.any(String), 'v1.32.0']);
    const namespaces = await kubectl(['get', 'namespaces', '-o', 'name']);
    expect(namespaces.stdout.trim().split('\n')).toEqual(['namespace/default', 'namespace/team-a']);
  });

  it('refuses kubectl\'s protobuf-encoded imperative create with 415 (use -f instead)', async () => {
    const res = await kubectl(['create', 'namespace', 'team-b']);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('UnsupportedMediaType');
  });

  it('cannot authenticate kubectl to a token-protected stand-in: kubectl never sends credentials over plain http', async () => {
    await api.stop();
    api = await startKubeApiStandIn({ token: 'secret' });
    const res = await kubectl(['get', 'pods']);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('You must be logged in to the server');
  });
});
