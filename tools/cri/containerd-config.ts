import path from 'node:path';

// containerd's configuration (version 2) for one private "node": every path containerd
// writes to lives under the node's directory, except what containerd 1.6 cannot move
// (shim sockets in /run/containerd/s, libcni's cache in /var/lib/cni/results) — the node's
// stop() removes those entries by sandbox id.

export interface ContainerdPaths {
  readonly dir: string;
  readonly root: string;
  readonly state: string;
  readonly temp: string;
  readonly opt: string;
  readonly runcRoot: string;
  readonly socket: string;
  readonly ttrpcSocket: string;
  readonly config: string;
  readonly log: string;
  readonly logRoot: string;
  readonly bin: string;
  readonly record: string;
  readonly sandboxImageTar: string;
}

export function containerdPaths(dir: string): ContainerdPaths {
  const p = (...parts: string[]) => path.join(dir, ...parts);
  return {
    dir,
    root: p('root'),
    state: p('state'),
    temp: p('tmp'),
    opt: p('opt'),
    runcRoot: p('runc'),
    socket: p('containerd.sock'),
    ttrpcSocket: p('containerd.ttrpc.sock'),
    config: p('config.toml'),
    log: p('containerd.log'),
    logRoot: p('pod-logs'),
    bin: p('bin'),
    record: p('node.json'),
    sandboxImageTar: p('sandbox-image.tar'),
  };
}

/** Plugins that only probe for backends absent here. */
const DISABLED_PLUGINS = [
  'io.containerd.snapshotter.v1.aufs',
  'io.containerd.snapshotter.v1.btrfs',
  'io.containerd.snapshotter.v1.devmapper',
  'io.containerd.snapshotter.v1.zfs',
  'io.containerd.tracing.processor.v1.otlp',
  'io.containerd.internal.v1.tracing',
];

const str = (s: string) => JSON.stringify(s);

export function renderContainerdConfig(o: {
  paths: ContainerdPaths;
  sandboxImage: string;
  cniBinDir: string;
  cniConfDir: string;
  logLevel?: string;
}): string {
  const { paths } = o;
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return `version = 2
root = ${str(paths.root)}
state = ${str(paths.state)}
temp = ${str(paths.temp)}
disabled_plugins = [${DISABLED_PLUGINS.map(str).join(', ')}]

[grpc]
  address = ${str(paths.socket)}

[ttrpc]
  address = ${str(paths.ttrpcSocket)}

[debug]
  level = ${str(o.logLevel ?? 'info')}

[plugins."io.containerd.internal.v1.opt"]
  path = ${str(paths.opt)}

# the tasks service needs the v1 runtime loaded; keep its runc root private too
[plugins."io.containerd.runtime.v1.linux"]
  runtime_root = ${str(paths.runcRoot)}

[${cri}]
  sandbox_image = ${str(o.sandboxImage)}
  # root here lacks CAP_SYS_RESOURCE: without this runc fails with
  # "can't get final child's PID from pipe: EOF"
  restrict_oom_score_adj = true
  # pod network namespaces under this node's state dir, not the shared /var/run/netns
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"

[${cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[${cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[${cri}.containerd.runtimes.runc.options]
  BinaryName = "runc"
  Root = ${str(paths.runcRoot)}
  SystemdCgroup = false

[${cri}.cni]
  bin_dir = ${str(o.cniBinDir)}
  conf_dir = ${str(o.cniConfDir)}
  max_conf_num = 1
`;
}
