import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { commandLine, envSource, flagValue, hasFlag } from './support/args';
import { containers, DEPLOY_DIR, find, findGenerated, id, NAMESPACE, podSpec, render, workloads, type Container, type K8sObject, type PodSpec } from './support/manifests';

// What `kubectl apply -k` would create, and that the pieces fit together: names, ports,
// addresses, mounts and flags that one object states and another relies on.

const base = render('base');
const external = render('overlays/external-etcd');

const ETCD_OBJECTS = ['Service/atoll-etcd', 'Service/atoll-etcd-0', 'Service/atoll-etcd-1', 'Service/atoll-etcd-2', 'StatefulSet/atoll-etcd', 'PodDisruptionBudget/atoll-etcd', 'ServiceAccount/atoll-etcd'];
const COMMON_OBJECTS = [
  'Namespace/atoll-system',
  'ServiceAccount/atoll-allocator',
  'ServiceAccount/atoll-node-agent',
  'ServiceAccount/atoll-default-ippool',
  'ClusterRole/atoll-node-agent',
  'ClusterRoleBinding/atoll-node-agent',
  'ClusterRole/atoll-allocator',
  'ClusterRoleBinding/atoll-allocator',
  'ConfigMap/atoll-default-ippool',
  'ConfigMap/atoll-etcd-endpoints',
  'Service/atoll-allocator',
  'Deployment/atoll-allocator',
  'PodDisruptionBudget/atoll-allocator',
  'DaemonSet/atoll-node-agent',
  'Job/atoll-default-ippool',
];
const CLUSTER_SCOPED = ['Namespace', 'ClusterRole', 'ClusterRoleBinding'];
const TLS_SECRETS = ['atoll-etcd-tls', 'atoll-etcd-client-tls', 'atoll-allocator-tls', 'atoll-node-agent-tls', 'atoll-admin-tls'];

/** Object ids with the hash suffix of generated ConfigMaps removed. */
const ids = (objects: readonly K8sObject[]) => objects.map((o) => id(o).replace(/^(ConfigMap\/.*)-[a-z0-9]{10}$/, '$1')).sort();

const container = (pod: PodSpec, name: string, init = false): Container => {
  const list = init ? pod.initContainers ?? [] : pod.containers;
  const c = list.find((x) => x.name === name);
  if (!c) throw new Error(`no ${init ? 'init ' : ''}container ${name}`);
  return c;
};

const spec = (o: K8sObject) => o['spec'] as Record<string, unknown>;
const service = (objects: readonly K8sObject[], name: string) =>
  spec(find(objects, 'Service', name)) as { clusterIP: string; selector: Record<string, string>; publishNotReadyAddresses?: boolean; ports: { name: string; port: number; targetPort: string }[] };

/** The Service a cluster DNS name denotes: <svc>.<ns>.svc or <pod>.<svc>.<ns>.svc (the member's own Service). */
function serviceOfName(hostname: string): string {
  const m = /^(?:([a-z0-9-]+)\.)?([a-z0-9-]+)\.atoll-system\.svc$/.exec(hostname);
  if (!m) throw new Error(`${hostname} is not a Service name in ${NAMESPACE}`);
  return m[1] ?? m[2]!;
}

/** The secret volumes' secret names, over every pod. */
const secretNames = (objects: readonly K8sObject[]) =>
  new Set(workloads(objects).flatMap(({ pod }) => (pod.volumes ?? []).flatMap((v) => ((v['secret'] as { secretName?: string } | undefined)?.secretName ? [(v['secret'] as { secretName: string }).secretName] : []))));

/** The hostPath behind a container's mount at `mountPath` (undefined: not a hostPath). */
function hostPathAt(pod: PodSpec, c: Container, mountPath: string): string | undefined {
  const mount = c.volumeMounts?.find((m) => m.mountPath === mountPath);
  const volume = mount && pod.volumes?.find((v) => v.name === mount.name);
  return (volume?.['hostPath'] as { path: string } | undefined)?.path;
}

describe('deploy/base', () => {
  it('renders exactly Atoll with its own etcd', () => {
    expect(ids(base)).toEqual([...COMMON_OBJECTS, ...ETCD_OBJECTS].sort());
  });

  it('puts every namespaced object in atoll-system and leaves cluster-scoped ones without a namespace', () => {
    for (const o of base) {
      if (CLUSTER_SCOPED.includes(o.kind)) expect({ object: id(o), namespace: o.metadata.namespace }).toEqual({ object: id(o), namespace: undefined });
      else expect({ object: id(o), namespace: o.metadata.namespace }).toEqual({ object: id(o), namespace: NAMESPACE });
    }
  });

  it('lets the node agent run: the namespace allows privileged pods', () => {
    expect(find(base, 'Namespace', NAMESPACE).metadata.labels).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'privileged' });
  });

  it('fills in every fixed Service address and keeps the address list itself out of the cluster', () => {
    const text = JSON.stringify(base);
    expect(text).not.toContain('set-by-kustomize');
    expect(base.filter((o) => o.metadata.annotations?.['config.kubernetes.io/local-config'])).toEqual([]);
    const addresses = readFileSync(path.join(DEPLOY_DIR, 'base/cluster-addresses.yaml'), 'utf8');
    for (const name of ['atoll-allocator', 'atoll-etcd-0', 'atoll-etcd-1', 'atoll-etcd-2']) {
      const ip = service(base, name).clusterIP;
      expect(ip).toMatch(/^\d{1,3}(\.\d{1,3}){3}$/);
      expect(addresses).toContain(`: ${ip}\n`);
    }
  });

  it('moves every fixed address when an overlay patches the address list before the cluster-addresses component', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'atoll-overlay-'));
    try {
      mkdirSync(path.join(dir, 'addresses'));
      const rel = (p: string) => path.relative(dir, path.join(DEPLOY_DIR, p));
      writeFileSync(path.join(dir, 'kustomization.yaml'), `resources: [${rel('base')}]\ncomponents: [addresses, ${rel('components/cluster-addresses')}]\n`);
      const data = { allocator: '10.43.0.50', 'etcd-0': '10.43.0.51', 'etcd-1': '10.43.0.52', 'etcd-2': '10.43.0.53' };
      const patch = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'atoll-cluster-addresses', namespace: NAMESPACE }, data };
      writeFileSync(path.join(dir, 'addresses/kustomization.yaml'), JSON.stringify({ apiVersion: 'kustomize.config.k8s.io/v1alpha1', kind: 'Component', patches: [{ patch: JSON.stringify(patch) }] }));
      const moved = render(dir);
      expect(JSON.stringify(moved)).not.toMatch(/10\.96\.0\.5\d/);
      expect(['atoll-allocator', 'atoll-etcd-0', 'atoll-etcd-1', 'atoll-etcd-2'].map((n) => service(moved, n).clusterIP)).toEqual(Object.values(data));
      const aliases = workloads(moved).flatMap(({ pod }) => (pod.hostAliases ?? []).flatMap((a) => a.hostnames.map((h) => [h, a.ip])));
      for (const [hostname, ip] of aliases) expect(ip).toBe(service(moved, serviceOfName(hostname!)).clusterIP);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('maps every hostAliases name to the fixed address of the Service that name denotes', () => {
    const aliases = workloads(base).flatMap(({ object, pod }) => (pod.hostAliases ?? []).flatMap((a) => a.hostnames.map((h) => ({ workload: id(object), hostname: h, ip: a.ip }))));
    expect(aliases.length).toBeGreaterThan(0);
    for (const a of aliases) expect(a).toEqual({ ...a, ip: service(base, serviceOfName(a.hostname)).clusterIP });
  });

  it('runs everything on Atoll’s path on the host network, resolving names without cluster DNS', () => {
    for (const { object, pod } of workloads(base)) {
      expect({ workload: id(object), hostNetwork: pod.hostNetwork, dnsPolicy: pod.dnsPolicy }).toEqual({ workload: id(object), hostNetwork: true, dnsPolicy: 'Default' });
    }
  });

  describe('etcd', () => {
    const pod = podSpec(base, 'StatefulSet', 'atoll-etcd');
    const sts = spec(find(base, 'StatefulSet', 'atoll-etcd')) as { replicas: number; serviceName: string; podManagementPolicy: string; volumeClaimTemplates: { metadata: { name: string } }[] };
    const etcd = container(pod, 'etcd');
    const argv = commandLine(etcd);
    const members = Array.from({ length: sts.replicas }, (_, i) => `atoll-etcd-${i}`);

    it('is three members started together behind a headless Service that lists members before they are ready', () => {
      expect(sts.replicas).toBe(3);
      expect(sts.podManagementPolicy).toBe('Parallel');
      const governing = service(base, sts.serviceName);
      expect(governing.clusterIP).toBe('None');
      expect(governing.publishNotReadyAddresses).toBe(true);
    });

    it('gives each member its own Service, selecting only that pod, even while not ready', () => {
      for (const m of members) {
        const s = service(base, m);
        expect(s.selector).toEqual({ 'app.kubernetes.io/name': 'atoll-etcd', 'statefulset.kubernetes.io/pod-name': m });
        expect(s.publishNotReadyAddresses).toBe(true);
        expect(s.ports.map((p) => [p.name, p.port])).toEqual([['client', 6666], ['peer', 6667]]);
      }
    });

    it('bootstraps from an initial cluster of exactly its members, whose peer names its hostAliases resolve', () => {
      const initial = flagValue(argv, 'initial-cluster')!.split(',').map((e) => e.split('='));
      expect(initial.map(([name]) => name)).toEqual(members);
      const aliased = (pod.hostAliases ?? []).flatMap((a) => a.hostnames);
      for (const [name, url] of initial) {
        const u = new URL(url!);
        expect({ member: name, protocol: u.protocol, host: u.hostname, port: u.port }).toEqual({ member: name, protocol: 'https:', host: `${name}.atoll-etcd.atoll-system.svc`, port: '6667' });
        expect(aliased).toContain(u.hostname);
      }
      expect(flagValue(argv, 'initial-advertise-peer-urls')).toBe('https://$(POD_NAME).atoll-etcd.atoll-system.svc:6667');
      expect(flagValue(argv, 'name')).toBe('$(POD_NAME)');
      expect(envSource(etcd, 'POD_NAME')).toEqual({ fieldPath: 'metadata.name' });
    });

    it('requires TLS client certificates from clients and peers, from the operator’s Secret', () => {
      for (const flag of ['client-cert-auth', 'peer-client-cert-auth']) expect(flagValue(argv, flag)).toBe('true');
      expect(flagValue(argv, 'listen-client-urls')).toMatch(/^https:/);
      expect(flagValue(argv, 'listen-peer-urls')).toMatch(/^https:/);
      const tlsVolume = pod.volumes?.find((v) => v.name === 'tls');
      expect(tlsVolume?.['secret']).toMatchObject({ secretName: 'atoll-etcd-tls' });
    });

    it('keeps its data on a persistent volume claim per member, in a directory of the volume', () => {
      expect(sts.volumeClaimTemplates.map((t) => t.metadata.name)).toEqual(['data']);
      expect(etcd.volumeMounts?.find((m) => m.name === 'data')?.mountPath).toBe('/var/lib/etcd');
      expect(flagValue(argv, 'data-dir')).toBe('/var/lib/etcd/data');
    });

    it('puts members on different nodes and lets only one be disrupted at a time', () => {
      expect(pod.affinity).toMatchObject({
        podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'atoll-etcd' } } }] },
      });
      expect(spec(find(base, 'PodDisruptionBudget', 'atoll-etcd'))).toEqual({ maxUnavailable: 1, selector: { matchLabels: { 'app.kubernetes.io/name': 'atoll-etcd' } } });
    });

    it('uses an etcd 3.5 image', () => {
      expect(etcd.image).toMatch(/etcd:v?3\.5\.\d+/);
    });
  });

  describe('allocator', () => {
    const deployment = spec(find(base, 'Deployment', 'atoll-allocator')) as { replicas: number };
    const pod = podSpec(base, 'Deployment', 'atoll-allocator');
    const allocator = container(pod, 'allocator');
    const argv = commandLine(allocator);

    it('runs two replicas on different nodes', () => {
      expect(deployment.replicas).toBe(2);
      expect(pod.affinity).toMatchObject({
        podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'atoll-allocator' } } }] },
      });
    });

    it('listens for gRPC on 7443 and serves probes and metrics on 9443, as its Service and probes expect', () => {
      expect(flagValue(argv, 'listen')).toBe('0.0.0.0:7443');
      expect(flagValue(argv, 'metrics-listen')).toBe('0.0.0.0:9443');
      expect(allocator.ports).toEqual([{ name: 'grpc', containerPort: 7443 }, { name: 'metrics', containerPort: 9443 }]);
      expect(service(base, 'atoll-allocator').ports).toEqual([
        { name: 'grpc', port: 7443, targetPort: 'grpc' },
        { name: 'metrics', port: 9443, targetPort: 'metrics' },
      ]);
      const probes = allocator as unknown as Record<string, { httpGet: { port: string; path: string } }>;
      expect(probes['readinessProbe']!.httpGet).toEqual({ port: 'metrics', path: '/readyz' });
      expect(probes['livenessProbe']!.httpGet).toEqual({ port: 'metrics', path: '/healthz' });
    });

    it('reads its etcd endpoints from the generated ConfigMap: the in-cluster members’ client URLs, names its hostAliases resolve', () => {
      expect(flagValue(argv, 'etcd-endpoints')).toBe('$(ATOLL_ETCD_ENDPOINTS)');
      const ref = envSource(allocator, 'ATOLL_ETCD_ENDPOINTS')?.configMapKey;
      const cm = findGenerated(base, 'ConfigMap', 'atoll-etcd-endpoints');
      expect(ref).toEqual({ name: cm.metadata.name, key: 'endpoints' });
      const endpoints = (cm['data'] as { endpoints: string }).endpoints.split(',').map((e) => new URL(e));
      expect(endpoints.map((u) => `${u.protocol}//${u.hostname}:${u.port}`)).toEqual([0, 1, 2].map((i) => `https://atoll-etcd-${i}.atoll-etcd.atoll-system.svc:6666`));
      const aliased = (pod.hostAliases ?? []).flatMap((a) => a.hostnames);
      for (const u of endpoints) expect(aliased).toContain(u.hostname);
    });

    it('is the only workload with etcd credentials, and has the allocator’s own', () => {
      for (const { object, pod: p } of workloads(base)) {
        const names = (p.volumes ?? []).map((v) => (v['secret'] as { secretName?: string } | undefined)?.secretName);
        if (id(object) === 'Deployment/atoll-allocator') expect(names).toEqual(['atoll-allocator-tls', 'atoll-etcd-client-tls']);
        else expect({ workload: id(object), holdsEtcdClient: names.includes('atoll-etcd-client-tls') }).toEqual({ workload: id(object), holdsEtcdClient: false });
      }
    });
  });

  describe('node agent', () => {
    const pod = podSpec(base, 'DaemonSet', 'atoll-node-agent');
    const install = container(pod, 'install-cni', true);
    const agent = container(pod, 'agent');
    const installArgv = commandLine(install);
    const agentArgv = commandLine(agent);

    it('runs on every node, whatever its taints, as a node-critical pod', () => {
      expect(pod.tolerations).toEqual([{ operator: 'Exists' }]);
      expect(pod.priorityClassName).toBe('system-node-critical');
    });

    it('installs the plugin and the network configuration into the host’s CNI directories first', () => {
      expect(hasFlag(installArgv, 'install-cni')).toBe(true);
      expect(hostPathAt(pod, install, flagValue(installArgv, 'cni-bin-dir')!)).toBe('/opt/cni/bin');
      expect(hostPathAt(pod, install, flagValue(installArgv, 'cni-conf-dir')!)).toBe('/etc/cni/net.d');
      expect(flagValue(installArgv, 'cni-plugin-path')).toBe('/opt/atoll/bin/atoll-ipam');
    });

    it('writes the socket path it serves on into the network configuration, in a host directory the plugin can reach', () => {
      const socket = flagValue(agentArgv, 'socket')!;
      expect(flagValue(installArgv, 'socket')).toBe(socket);
      expect(hostPathAt(pod, agent, path.posix.dirname(socket))).toBe(path.posix.dirname(socket));
      expect(socket).toBe('/run/atoll/agent.sock');
    });

    it('installs the main plugin with the pods\' MTU, and sees the pods\' network namespaces as the runtime makes them', () => {
      expect(flagValue(installArgv, 'cni-mtu')).toBe('1500');
      const netns = agent.volumeMounts!.find((m) => m.mountPath === '/var/run/netns')!;
      expect(netns.mountPropagation).toBe('HostToContainer');
      expect(hostPathAt(pod, agent, '/var/run/netns')).toBe('/var/run/netns');
    });

    it('routes host-gw, other nodes reaching this node\'s pods through the kubelet\'s node address', () => {
      expect(flagValue(agentArgv, 'routing')).toBe('host-gw');
      expect(flagValue(agentArgv, 'node-ip')).toBe('$(NODE_IP)');
      expect(envSource(agent, 'NODE_IP')).toEqual({ fieldPath: 'status.hostIP' });
    });

    it('takes its node name from the downward API', () => {
      for (const c of [install, agent]) {
        expect(flagValue(commandLine(c), 'node-name')).toBe('$(NODE_NAME)');
        expect(envSource(c, 'NODE_NAME')).toEqual({ fieldPath: 'spec.nodeName' });
      }
    });

    it('uses the in-cluster Kubernetes configuration of its ServiceAccount', () => {
      expect(hasFlag(agentArgv, 'kubeconfig')).toBe(false);
      expect(hasFlag(agentArgv, 'labels')).toBe(false);
      expect(pod.serviceAccountName).toBe('atoll-node-agent');
      expect(pod.automountServiceAccountToken).not.toBe(false);
    });

    it('dials the allocator’s Service by a name its hostAliases map to the Service’s address', () => {
      const [host, port] = flagValue(agentArgv, 'allocator')!.split(':');
      expect(serviceOfName(host!)).toBe('atoll-allocator');
      expect((pod.hostAliases ?? []).flatMap((a) => a.hostnames)).toContain(host);
      expect(Number(port)).toBe(service(base, 'atoll-allocator').ports.find((p) => p.name === 'grpc')!.port);
    });

    it('identifies itself with its own node’s kubelet client certificate, read from the host', () => {
      const cert = flagValue(agentArgv, 'tls-cert-file')!;
      expect(flagValue(agentArgv, 'tls-key-file')).toBe(cert);
      expect(hostPathAt(pod, agent, path.posix.dirname(cert))).toBe(path.posix.dirname(cert));
      expect(agent.volumeMounts?.find((m) => m.mountPath === path.posix.dirname(cert))?.readOnly).toBe(true);
    });
  });

  describe('default pool Job', () => {
    const pod = podSpec(base, 'Job', 'atoll-default-ippool');
    const apply = container(pod, 'apply');
    const argv = commandLine(apply);

    it('runs atollctl apply -f on the pool YAML mounted from its ConfigMap, as an admin', () => {
      expect(argv.slice(-3, -1)).toEqual(['apply', '-f']);
      const file = argv[argv.length - 1]!;
      const mount = apply.volumeMounts!.find((m) => m.mountPath === path.posix.dirname(file))!;
      const volume = pod.volumes!.find((v) => v.name === mount.name)!;
      expect(volume['configMap']).toEqual({ name: 'atoll-default-ippool' });
      const cm = find(base, 'ConfigMap', 'atoll-default-ippool');
      expect(Object.keys(cm['data'] as object)).toEqual([path.posix.basename(file)]);
      expect(pod.volumes!.find((v) => v.name === 'tls')?.['secret']).toMatchObject({ secretName: 'atoll-admin-tls' });
    });

    it('dials the allocator the way the node agent does', () => {
      const agentArgv = commandLine(container(podSpec(base, 'DaemonSet', 'atoll-node-agent'), 'agent'));
      expect(flagValue(argv, 'allocator')).toBe(flagValue(agentArgv, 'allocator'));
      expect(pod.hostAliases).toEqual(podSpec(base, 'DaemonSet', 'atoll-node-agent').hostAliases);
    });
  });

  it('references the operator’s TLS Secrets by name and creates none', () => {
    expect([...secretNames(base)].sort()).toEqual([...TLS_SECRETS].sort());
    expect(base.filter((o) => o.kind === 'Secret')).toEqual([]);
  });

  it('starts every Atoll container through a binary path, never a shell', () => {
    for (const c of containers(base).filter((x) => x.container.image.startsWith('atoll/'))) {
      expect(c.container.command?.[0]).toMatch(/^\/opt\/atoll\/bin\/(atoll-allocator|atoll-node-agent|atollctl)$/);
    }
  });
});

describe('deploy/overlays/external-etcd', () => {
  it('renders Atoll without any etcd of its own', () => {
    expect(ids(external)).toEqual([...COMMON_OBJECTS].sort());
    expect(JSON.stringify(external)).not.toContain('atoll-etcd-tls');
  });

  it('points the allocator at the endpoints of its ConfigMap patch', () => {
    const expected = readFileSync(path.join(DEPLOY_DIR, 'overlays/external-etcd/etcd-endpoints.env'), 'utf8')
      .split('\n')
      .find((l) => l.startsWith('endpoints='))!
      .slice('endpoints='.length)
      .trim();
    const cm = findGenerated(external, 'ConfigMap', 'atoll-etcd-endpoints');
    expect(cm['data']).toEqual({ endpoints: expected });
    const allocator = container(podSpec(external, 'Deployment', 'atoll-allocator'), 'allocator');
    expect(envSource(allocator, 'ATOLL_ETCD_ENDPOINTS')?.configMapKey).toEqual({ name: cm.metadata.name, key: 'endpoints' });
    // A new name, so that changing the endpoints rolls the allocator.
    expect(cm.metadata.name).not.toBe(findGenerated(base, 'ConfigMap', 'atoll-etcd-endpoints').metadata.name);
  });

  it('drops the allocator’s hostAliases for the in-cluster members and keeps its etcd client certificate', () => {
    const pod = podSpec(external, 'Deployment', 'atoll-allocator');
    expect(pod.hostAliases).toBeUndefined();
    expect([...secretNames(external)].sort()).toEqual(TLS_SECRETS.filter((s) => s !== 'atoll-etcd-tls').sort());
  });

  it('changes nothing else', () => {
    const strip = (objects: readonly K8sObject[]) =>
      objects
        .filter((o) => !ETCD_OBJECTS.includes(id(o)) && !id(o).startsWith('ConfigMap/atoll-etcd-endpoints'))
        .map((o) => JSON.parse(JSON.stringify(o).replace(/atoll-etcd-endpoints-[a-z0-9]{10}/g, 'atoll-etcd-endpoints')) as K8sObject)
        .map((o) => (id(o) === 'Deployment/atoll-allocator' ? withoutHostAliases(o) : o));
    expect(strip(external)).toEqual(strip(base));
  });
});

function withoutHostAliases(o: K8sObject): K8sObject {
  const copy = JSON.parse(JSON.stringify(o)) as { spec: { template: { spec: Record<string, unknown> } } };
  delete copy.spec.template.spec['hostAliases'];
  return copy as unknown as K8sObject;
}
