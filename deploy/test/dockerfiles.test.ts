import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { commandLine, flagValue } from './support/args';
import { destinationOf, parseDockerfile, type Stage } from './support/dockerfile';
import { containers, DEPLOY_DIR, REPO_ROOT, render } from './support/manifests';

// The images, checked statically (Docker does not run here): every COPY takes something
// that is in the repository or that the build stage's commands produce, every entrypoint
// and every command a manifest runs is a binary the image has, and the images are the ones
// the manifests name.

const IMAGES_DIR = path.join(DEPLOY_DIR, 'images');
const IMAGES = readdirSync(IMAGES_DIR).filter((d) => existsSync(path.join(IMAGES_DIR, d, 'Dockerfile')));

const readJson = (file: string) => JSON.parse(readFileSync(path.join(REPO_ROOT, file), 'utf8')) as { name: string; scripts?: Record<string, string> };

/** Workspace packages under apps/ with their package.json scripts. */
const APP_PACKAGES = readdirSync(path.join(REPO_ROOT, 'apps'))
  .filter((d) => existsSync(path.join(REPO_ROOT, 'apps', d, 'package.json')))
  .map((d) => ({ dir: `apps/${d}`, ...readJson(`apps/${d}/package.json`) }));

/** What `nx run-many -t build` writes: each app bundle (tools/build/bundle.js ENTRY NAME → dist/bin/NAME), and dist/proto. */
function buildOutputs(): string[] {
  const bundles = APP_PACKAGES.flatMap((p) => [...(p.scripts?.['build'] ?? '').matchAll(/bundle\.js\s+\S+\s+([\w.-]+)/g)].map((m) => `dist/bin/${m[1]}`));
  const bundler = readFileSync(path.join(REPO_ROOT, 'tools/build/bundle.js'), 'utf8');
  return [...bundles, ...(bundler.includes("'dist/proto'") ? ['dist/proto'] : [])];
}

/** What `nx run <project>:sea` writes: the OUTPUT its script names. */
function seaOutputs(project: string): string[] {
  const pkg = APP_PACKAGES.find((p) => p.name === project);
  const script = /node\s+(\S+\.js)/.exec(pkg?.scripts?.['sea'] ?? '')?.[1];
  if (!pkg || !script) return [];
  const source = readFileSync(path.join(REPO_ROOT, pkg.dir, script), 'utf8');
  return [...source.matchAll(/OUTPUT\s*=\s*path\.join\(ROOT,\s*'([^']+)'\)/g)].map((m) => m[1]!);
}

/** Paths (relative to the repository) the build stage's RUN commands produce. */
function producedBy(stage: Stage): string[] {
  return stage.runs.flatMap((run) => [
    ...(/\bnx run-many\b.*-t build\b/.test(run) ? buildOutputs() : []),
    ...[...run.matchAll(/\bnx run (@[\w/-]+):sea\b/g)].flatMap((m) => seaOutputs(m[1]!)),
  ]);
}

function ignored(image: string): string[] {
  const file = path.join(IMAGES_DIR, image, 'Dockerfile.dockerignore');
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

/** Whether a .dockerignore pattern excludes a repository path (the few pattern shapes used here). */
function excludes(pattern: string, rel: string): boolean {
  const p = pattern.replace(/^\/+/, '');
  if (p.startsWith('**/')) return rel.split('/').some((_, i, parts) => excludes(p.slice(3), parts.slice(i).join('/')));
  const re = new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}(/|$)`);
  return re.test(rel);
}

describe.each(IMAGES)('deploy/images/%s/Dockerfile', (image) => {
  const stages = parseDockerfile(path.join(IMAGES_DIR, image, 'Dockerfile'));
  const build = stages.find((s) => s.name === 'build')!;
  const runtime = stages[stages.length - 1]!;
  const produced = producedBy(build);
  const patterns = ignored(image);

  it('builds in a node:20 stage with npm ci and the workspace build, then runs on node:20-slim', () => {
    expect(build.image).toMatch(/^node:20(-bookworm)?$/);
    expect(build.runs.some((r) => /^npm ci\b/.test(r))).toBe(true);
    expect(build.runs.some((r) => /^npx nx run-many -t build\b/.test(r))).toBe(true);
    expect(runtime.image).toMatch(/^node:20(-bookworm)?-slim$/);
    expect(stages).toHaveLength(2);
  });

  it('copies the repository into the build stage, without what is built or installed locally', () => {
    expect(build.copies).toEqual([{ sources: ['.'], dest: '.' }]);
    for (const local of ['node_modules', 'dist', '.nx', 'apps/allocator/node_modules']) expect({ local, ignored: patterns.some((p) => excludes(p, local)) }).toEqual({ local, ignored: true });
    for (const needed of ['package.json', 'package-lock.json', 'nx.json', 'tsconfig.base.json', 'apps/cni-plugin/scripts/build-sea.js', 'tools/build/bundle.js', 'proto']) {
      expect({ needed, exists: existsSync(path.join(REPO_ROOT, needed)), ignored: patterns.some((p) => excludes(p, needed)) }).toEqual({ needed, exists: true, ignored: false });
    }
  });

  it('copies into the runtime image only what the build stage produced', () => {
    expect(runtime.copies.length).toBeGreaterThan(0);
    for (const copy of runtime.copies) {
      expect(copy.from).toBe('build');
      for (const source of copy.sources) {
        const rel = path.posix.relative(build.workdir, source);
        expect({ source, produced: produced.includes(rel) }).toEqual({ source, produced: true });
      }
    }
  });

  it('starts a binary it copied in', () => {
    const installed = runtime.copies.flatMap((c) => c.sources.map((s) => destinationOf(c, s, runtime.workdir)));
    expect(runtime.entrypoint).toHaveLength(1);
    expect(installed).toContain(runtime.entrypoint![0]);
    expect(path.posix.basename(runtime.entrypoint![0]!)).toMatch(/^(atoll-allocator|atoll-node-agent|atollctl)$/);
  });
});

describe('what the build stage produces', () => {
  it('is what the local build wrote to dist/', () => {
    for (const out of buildOutputs()) expect({ out, exists: existsSync(path.join(REPO_ROOT, out)) }).toEqual({ out, exists: true });
  });

  it('includes the plugin’s single executable when the sea target runs', () => {
    expect(seaOutputs('@atoll/cni-plugin')).toEqual(['dist/bin/atoll-ipam-sea']);
  });
});

describe('images the manifests run', () => {
  const all = [...containers(render('base')), ...containers(render('overlays/external-etcd'))].filter((c) => c.container.image.startsWith('atoll/'));

  const imageFiles = (image: string) => {
    const dir = /^atoll\/([\w-]+):/.exec(image)?.[1];
    if (!dir || !IMAGES.includes(dir)) throw new Error(`${image} has no Dockerfile in deploy/images/${dir ?? '?'}`);
    const stages = parseDockerfile(path.join(IMAGES_DIR, dir, 'Dockerfile'));
    const runtime = stages[stages.length - 1]!;
    return { runtime, installed: runtime.copies.flatMap((c) => c.sources.map((s) => destinationOf(c, s, runtime.workdir))) };
  };

  it('are built by a Dockerfile here and start a binary the image has', () => {
    expect(all.length).toBeGreaterThan(0);
    for (const c of all) expect(imageFiles(c.container.image).installed).toContain(c.container.command?.[0]);
  });

  it('run as the user the image declares: non-root, except the node agent', () => {
    for (const c of all) {
      const { runtime } = imageFiles(c.container.image);
      const user = Number(runtime.user?.split(':')[0]);
      const runAs = c.container.securityContext?.runAsUser ?? c.pod.securityContext?.runAsUser;
      expect({ image: c.container.image, user, runAs }).toEqual({ image: c.container.image, user: runAs, runAs });
    }
  });

  it('include the plugin the node agent installs, built as a single executable', () => {
    const install = all.find((c) => c.container.name === 'install-cni')!;
    const plugin = flagValue(commandLine(install.container), 'cni-plugin-path')!;
    const { runtime, installed } = imageFiles(install.container.image);
    expect(installed).toContain(plugin);
    const copy = runtime.copies.find((c) => c.sources.some((s) => destinationOf(c, s, runtime.workdir) === plugin))!;
    expect(copy.sources).toEqual(['/src/dist/bin/atoll-ipam-sea']);
  });

  it('give the allocator etcd3’s .proto files where its bundle looks for them (<bin>/../proto)', () => {
    const allocator = all.find((c) => c.container.name === 'allocator')!;
    const bin = allocator.container.command![0]!;
    expect(imageFiles(allocator.container.image).installed).toContain(path.posix.join(path.posix.dirname(bin), '../proto'));
  });
});
