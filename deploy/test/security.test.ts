import { readFileSync } from 'node:fs';
import path from 'node:path';
import { containers, DEPLOY_DIR, id, render, where, workloads, type LocatedContainer } from './support/manifests';

// Least privilege in the pods: every container runs non-root with a read-only root
// filesystem and no capabilities, except that the node agent runs as root and its agent
// container privileged (the pod dataplane; the manifest says why); every container states
// what it needs.

const NODE_AGENT = 'DaemonSet/atoll-node-agent';

function effective(c: LocatedContainer) {
  const pod = c.pod.securityContext ?? {};
  const own = c.container.securityContext ?? {};
  return {
    runAsNonRoot: own.runAsNonRoot ?? pod.runAsNonRoot,
    runAsUser: own.runAsUser ?? pod.runAsUser,
    readOnlyRootFilesystem: own.readOnlyRootFilesystem,
    allowPrivilegeEscalation: own.allowPrivilegeEscalation,
    privileged: own.privileged ?? false,
    drop: own.capabilities?.drop ?? [],
    add: own.capabilities?.add ?? [],
  };
}

describe.each(['base', 'overlays/external-etcd'])('pods of deploy/%s', (kustomization) => {
  const objects = render(kustomization);
  const all = containers(objects).map((c) => [where(c), c] as const);
  const others = all.filter(([, c]) => c.workload !== NODE_AGENT);
  const agent = all.filter(([, c]) => c.workload === NODE_AGENT);

  it.each(others)('%s runs as a non-root user, read-only, without capabilities or privilege escalation', (_name, c) => {
    const s = effective(c);
    expect(s).toEqual({ ...s, runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, privileged: false, drop: ['ALL'], add: [] });
    expect(s.runAsUser).toBeGreaterThan(0);
  });

  const [install, dataplane] = [agent.filter(([, c]) => c.init), agent.filter(([, c]) => !c.init)];

  it.each(install)('%s runs as root, but read-only, without capabilities or privilege escalation', (_name, c) => {
    const s = effective(c);
    expect(s).toEqual({ ...s, runAsUser: 0, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, privileged: false, drop: ['ALL'], add: [] });
  });

  it.each(dataplane)('%s runs as root and privileged (it wires pods), with a read-only root filesystem', (_name, c) => {
    const s = effective(c);
    expect(s).toEqual({ ...s, runAsUser: 0, readOnlyRootFilesystem: true, privileged: true });
  });

  it.each(all)('%s requests CPU and memory and has a memory limit', (_name, c) => {
    expect(c.container.resources?.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
    expect(c.container.resources?.limits?.['memory']).toEqual(expect.any(String));
  });

  it('uses the runtime’s default seccomp profile in every pod and shares no host PID or IPC namespace', () => {
    for (const { object, pod } of workloads(objects)) {
      const p = pod as unknown as Record<string, unknown>;
      expect({ workload: id(object), seccomp: pod.securityContext?.seccompProfile, hostPID: p['hostPID'], hostIPC: p['hostIPC'] }).toEqual({
        workload: id(object),
        seccomp: { type: 'RuntimeDefault' },
        hostPID: undefined,
        hostIPC: undefined,
      });
    }
  });

  it('mounts host paths only into the node agent', () => {
    for (const { object, pod } of workloads(objects)) {
      const hostPaths = (pod.volumes ?? []).filter((v) => v['hostPath']).map((v) => (v['hostPath'] as { path: string }).path);
      if (id(object) === NODE_AGENT) expect(hostPaths.sort()).toEqual(['/etc/cni/net.d', '/opt/cni/bin', '/run/atoll', '/var/lib/kubelet/pki', '/var/run/netns']);
      else expect({ workload: id(object), hostPaths }).toEqual({ workload: id(object), hostPaths: [] });
    }
  });

  it('mounts the kubelet’s certificates into the node agent read-only, and into its CNI install not at all', () => {
    const agentPod = workloads(objects).find((w) => id(w.object) === NODE_AGENT)!.pod;
    const mountsOf = (name: string) => [...(agentPod.initContainers ?? []), ...agentPod.containers].filter((c) => c.volumeMounts?.some((m) => m.name === name)).map((c) => c.name);
    expect(mountsOf('kubelet-pki')).toEqual(['agent']);
    expect(agentPod.containers[0]!.volumeMounts!.find((m) => m.name === 'kubelet-pki')!.readOnly).toBe(true);
  });
});

describe('the node agent manifest', () => {
  it('says next to its securityContext why it runs as root', () => {
    const text = readFileSync(path.join(DEPLOY_DIR, 'base/node-agent.yaml'), 'utf8');
    expect(text).toMatch(/# Why it runs as root/);
    expect(text).toMatch(/runAsUser: 0\n/);
    expect(text).toMatch(/# Root on purpose: see the top of this file\.\n\s+runAsUser: 0/);
  });
});
