import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCommand } from '../../netns/netns';
import { assertNoNodeOnPath } from '../../cri/containerd-node';
import { BUSYBOX_PATH, buildSandboxImageLayout, isStaticElf, SANDBOX_IMAGE_NAME } from '../../cri/sandbox-image';
import { buildTar } from '../../cri/ustar';

// The sandbox image is built byte by byte here; GNU tar (a real reader) checks the archive
// format, and the OCI layout is checked by following its digests.

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('sandbox image', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atoll-cri-image-test-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function tarListing(archive: Buffer): Promise<string[]> {
    const file = path.join(dir, `${Math.random().toString(36).slice(2)}.tar`);
    fs.writeFileSync(file, archive);
    const r = await runCommand('tar', ['-tvf', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return r.stdout.trim().split('\n');
  }

  it('writes ustar archives GNU tar reads: files with their sizes, directories, symlinks, long paths', async () => {
    const longDir = `${'d'.repeat(80)}/${'e'.repeat(60)}`;
    const listing = await tarListing(
      buildTar([
        { type: 'dir', path: 'bin' },
        { type: 'file', path: 'bin/tool', data: Buffer.from('x'.repeat(1000)), mode: 0o755 },
        { type: 'symlink', path: 'bin/alias', target: 'tool' },
        { type: 'file', path: `${longDir}/file.txt`, data: Buffer.from('hi') },
      ]),
    );
    expect(listing[0]).toMatch(/^drwxr-xr-x root\/root +0 .* bin\/$/);
    expect(listing[1]).toMatch(/^-rwxr-xr-x root\/root +1000 .* bin\/tool$/);
    expect(listing[2]).toMatch(/^lrwxrwxrwx root\/root +0 .* bin\/alias -> tool$/);
    expect(listing[3]).toMatch(new RegExp(`-rw-r--r-- root/root +2 .* ${longDir}/file.txt$`));
  });

  it('is an OCI layout whose index names the image and whose digests match their blobs', async () => {
    const layout = buildSandboxImageLayout();
    const extract = path.join(dir, 'layout');
    fs.mkdirSync(extract);
    fs.writeFileSync(path.join(dir, 'layout.tar'), layout);
    expect((await runCommand('tar', ['-xf', path.join(dir, 'layout.tar'), '-C', extract])).code).toBe(0);
    const readBlob = (digest: string) => fs.readFileSync(path.join(extract, 'blobs/sha256', digest.replace('sha256:', '')));

    expect(JSON.parse(fs.readFileSync(path.join(extract, 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    const index = JSON.parse(fs.readFileSync(path.join(extract, 'index.json'), 'utf8'));
    expect(index.manifests).toHaveLength(1);
    const entry = index.manifests[0];
    expect(entry.annotations['io.containerd.image.name']).toBe(SANDBOX_IMAGE_NAME);
    const manifestBytes = readBlob(entry.digest);
    expect(sha256(manifestBytes)).toBe(entry.digest);
    const manifest = JSON.parse(manifestBytes.toString());
    const config = JSON.parse(readBlob(manifest.config.digest).toString());
    const layer = readBlob(manifest.layers[0].digest);
    expect(sha256(layer)).toBe(manifest.layers[0].digest);
    expect(config.rootfs.diff_ids).toEqual([manifest.layers[0].digest]); // uncompressed: diff id = digest
    expect(config.config.Entrypoint[0]).toBe('/bin/sh');

    const files = await tarListing(layer);
    expect(files.some((l) => l.endsWith(' bin/busybox') && l.startsWith('-rwxr-xr-x'))).toBe(true);
    expect(files.some((l) => l.endsWith('bin/sh -> busybox'))).toBe(true);
    expect(files.some((l) => l.endsWith('bin/sleep -> busybox'))).toBe(true);
  });

  it('gives the same bytes on every build', () => {
    expect(sha256(buildSandboxImageLayout())).toBe(sha256(buildSandboxImageLayout()));
  });

  it('tells a static busybox from a dynamically linked binary', () => {
    const head = (file: string) => {
      const fd = fs.openSync(file, 'r');
      const buf = Buffer.alloc(64 * 1024); // ELF and program headers sit at the start
      fs.readSync(fd, buf, 0, buf.length, 0);
      fs.closeSync(fd);
      return buf;
    };
    expect(isStaticElf(head(BUSYBOX_PATH))).toBe(true);
    expect(isStaticElf(head(process.execPath))).toBe(false);
  });

  it('refuses a containerd PATH that holds a node binary', () => {
    expect(() => assertNoNodeOnPath(`/usr/sbin:${path.dirname(process.execPath)}`)).toThrow(/without Node\.js/);
    expect(() => assertNoNodeOnPath('/usr/local/sbin:/usr/sbin:/sbin')).not.toThrow();
  });
});
