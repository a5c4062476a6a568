import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { runCommand } from '../netns/netns';
import { buildTar, type TarEntry } from './ustar';

// The pod sandbox ("pause") image, built here instead of pulled: an OCI image layout with
// one uncompressed layer holding a static busybox. Its entrypoint sleeps until SIGTERM.

export const SANDBOX_IMAGE_NAME = 'localhost/atoll/pause:1';
export const BUSYBOX_PATH = '/bin/busybox';

/** PID 1 of the sandbox: sleeps, and exits at once on TERM (a trapped signal ends `wait`). */
const ENTRYPOINT = ['/bin/sh', '-c', "trap 'exit 0' TERM; while :; do sleep 3600 & wait $!; done"];

const MEDIA_TYPE = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
} as const;

interface Blob {
  readonly digest: string;
  readonly data: Buffer;
}

function blob(data: Buffer | string): Blob {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  return { digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, data: bytes };
}

function ociArchitecture(): string {
  const map: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  const arch = map[process.arch];
  if (!arch) throw new Error(`no OCI architecture for ${process.arch}`);
  return arch;
}

/** True when the ELF file has no PT_INTERP program header (it needs no dynamic loader). */
export function isStaticElf(file: Buffer): boolean {
  if (file.length < 64 || file.readUInt32BE(0) !== 0x7f454c46) throw new Error('not an ELF file');
  const is64 = file[4] === 2;
  const le = file[5] === 1;
  const u16 = (o: number) => (le ? file.readUInt16LE(o) : file.readUInt16BE(o));
  const u32 = (o: number) => (le ? file.readUInt32LE(o) : file.readUInt32BE(o));
  const phoff = is64 ? Number(le ? file.readBigUInt64LE(0x20) : file.readBigUInt64BE(0x20)) : u32(0x1c);
  const phentsize = u16(is64 ? 0x36 : 0x2a);
  const phnum = u16(is64 ? 0x38 : 0x2c);
  const PT_INTERP = 3;
  for (let i = 0; i < phnum; i++) if (u32(phoff + i * phentsize) === PT_INTERP) return false;
  return true;
}

/** The image layout as a tar (bytes are the same for the same busybox and name). */
export function buildSandboxImageLayout(opts: { name?: string; busyboxPath?: string } = {}): Buffer {
  const name = opts.name ?? SANDBOX_IMAGE_NAME;
  const busyboxPath = opts.busyboxPath ?? BUSYBOX_PATH;
  if (!fs.existsSync(busyboxPath)) throw new Error(`${busyboxPath} is missing: install busybox-static (tools/install-system-deps.sh)`);
  const busybox = fs.readFileSync(busyboxPath);
  if (!isStaticElf(busybox)) throw new Error(`${busyboxPath} is dynamically linked; the sandbox image needs busybox-static`);

  const rootfs: TarEntry[] = [
    ...['bin', 'dev', 'etc', 'proc', 'sys', 'tmp'].map((path): TarEntry => ({ type: 'dir', path })),
    { type: 'file', path: 'bin/busybox', data: busybox, mode: 0o755 },
    { type: 'symlink', path: 'bin/sh', target: 'busybox' },
    { type: 'symlink', path: 'bin/sleep', target: 'busybox' },
  ];
  const layer = blob(buildTar(rootfs));
  const architecture = ociArchitecture();
  const config = blob(
    JSON.stringify({
      architecture,
      os: 'linux',
      config: { Env: ['PATH=/bin'], Entrypoint: ENTRYPOINT, WorkingDir: '/' },
      rootfs: { type: 'layers', diff_ids: [layer.digest] },
    }),
  );
  const manifest = blob(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPE.manifest,
      config: { mediaType: MEDIA_TYPE.config, digest: config.digest, size: config.data.length },
      layers: [{ mediaType: MEDIA_TYPE.layer, digest: layer.digest, size: layer.data.length }],
    }),
  );
  const index = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.index,
    manifests: [
      {
        mediaType: MEDIA_TYPE.manifest,
        digest: manifest.digest,
        size: manifest.data.length,
        platform: { architecture, os: 'linux' },
        annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': name.slice(name.lastIndexOf(':') + 1) },
      },
    ],
  };
  const blobEntry = (b: Blob): TarEntry => ({ type: 'file', path: `blobs/sha256/${b.digest.slice('sha256:'.length)}`, data: b.data });
  return buildTar([
    { type: 'file', path: 'oci-layout', data: Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })) },
    { type: 'file', path: 'index.json', data: Buffer.from(JSON.stringify(index)) },
    { type: 'dir', path: 'blobs' },
    { type: 'dir', path: 'blobs/sha256' },
    blobEntry(layer),
    blobEntry(config),
    blobEntry(manifest),
  ]);
}

/** Writes the image layout tar to `tarPath`. */
export function writeSandboxImageTar(tarPath: string, opts: { name?: string; busyboxPath?: string } = {}): void {
  fs.writeFileSync(tarPath, buildSandboxImageLayout(opts));
}

/** `ctr -n k8s.io images import`: the image becomes visible to the CRI plugin of that containerd. */
export async function importImage(opts: { socket: string; tarPath: string; namespace?: string }): Promise<void> {
  const r = await runCommand('ctr', ['--address', opts.socket, '-n', opts.namespace ?? 'k8s.io', 'images', 'import', opts.tarPath], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`ctr images import ${opts.tarPath} failed (${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
}
