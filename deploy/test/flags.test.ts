import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { commandLine, longFlags, shortFlags } from './support/args';
import { containers, REPO_ROOT, render, where, type LocatedContainer } from './support/manifests';

// The command lines in the manifests use only flags the binaries accept: the flags each
// built binary prints with --help (dist/bin, built by `npx nx run-many -t build`), and the
// binary's own parser run over the same command line.

const BINARIES = ['atoll-allocator', 'atoll-node-agent', 'atollctl'] as const;
type Binary = (typeof BINARIES)[number];

const binPath = (b: Binary) => path.join(REPO_ROOT, 'dist/bin', b);

const helpTexts = new Map<string, string>();

function help(b: Binary, ...words: string[]): string {
  const key = [b, ...words].join(' ');
  if (!helpTexts.has(key)) {
    if (!existsSync(binPath(b))) throw new Error(`${binPath(b)} is missing: run \`npx nx run-many -t build\` first`);
    helpTexts.set(key, execFileSync(binPath(b), [...words, '--help'], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } }));
  }
  return helpTexts.get(key)!;
}

/** Every flag a help text names ("--name", "--name=<X>", "-f --filename=<F>"). */
function flagsIn(text: string): Set<string> {
  return new Set([...text.matchAll(/(?<![\w-])(--[a-z0-9][a-z0-9-]*|-[a-zA-Z])(?=[\s=,[\]]|$)/gm)].map((m) => m[1]!));
}

interface AtollCommandLine {
  readonly binary: Binary;
  readonly located: LocatedContainer;
  /** Everything after the binary. */
  readonly argv: readonly string[];
}

function atollCommandLines(kustomization: string): AtollCommandLine[] {
  return containers(render(kustomization)).flatMap((located) => {
    const [command, ...argv] = commandLine(located.container);
    const binary = BINARIES.find((b) => path.posix.basename(command ?? '') === b);
    return binary ? [{ binary, located, argv }] : [];
  });
}

/** Flags used on a command line that the binary's help does not name. */
function unknownFlags({ binary, argv }: AtollCommandLine): string[] {
  if (binary !== 'atollctl') {
    const known = flagsIn(help(binary));
    return [...longFlags(argv).map((f) => `--${f}`), ...shortFlags(argv)].filter((f) => !known.has(f));
  }
  // atollctl [global flags] <command> [<subcommand>] [flags]: global flags come before the
  // command words and are in the top-level help; the rest are in the command's help.
  const commandAt = argv.findIndex((a) => !a.startsWith('-'));
  const words = commandAt < 0 ? [] : argv.slice(commandAt).filter((a, i, all) => !a.startsWith('-') && (i === 0 || (all[0] === 'ipam' && i === 1)));
  const global = argv.slice(0, commandAt < 0 ? argv.length : commandAt);
  const rest = commandAt < 0 ? [] : argv.slice(commandAt);
  const topKnown = flagsIn(help('atollctl'));
  const commandKnown = words.length > 0 ? flagsIn(help('atollctl', ...words)) : topKnown;
  return [
    ...[...longFlags(global).map((f) => `--${f}`), ...shortFlags(global)].filter((f) => !topKnown.has(f)),
    ...[...longFlags(rest).map((f) => `--${f}`), ...shortFlags(rest)].filter((f) => !commandKnown.has(f)),
  ];
}

const baseLines = atollCommandLines('base');
const lines = [...baseLines, ...atollCommandLines('overlays/external-etcd')];
const cases = lines.map((l, i) => [`${i < baseLines.length ? 'base' : 'external-etcd'}: ${where(l.located)}`, l] as const);

describe('the command lines of Atoll containers', () => {
  it('exist for the allocator, the node agent (and its CNI install) and atollctl', () => {
    expect(baseLines.map((l) => `${where(l.located)} → ${l.binary}`).sort()).toEqual([
      'DaemonSet/atoll-node-agent container agent → atoll-node-agent',
      'DaemonSet/atoll-node-agent init container install-cni → atoll-node-agent',
      'Deployment/atoll-allocator container allocator → atoll-allocator',
      'Job/atoll-default-ippool container apply → atollctl',
    ]);
  });

  it.each(cases)('%s uses only flags its binary’s --help names', (_name, line) => {
    expect(unknownFlags(line)).toEqual([]);
  });

  it.each(cases)('%s is accepted by its binary’s own flag parser', (_name, line) => {
    // --help last: the parser checks every flag, then prints usage instead of starting.
    const run = spawnSync(binPath(line.binary), [...line.argv, '--help'], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' }, timeout: 20000 });
    expect({ status: run.status, stderr: run.stderr.trim() }).toEqual({ status: 0, stderr: '' });
  });

  it.each(cases)('%s names only environment variables its container defines', (_name, line) => {
    const defined = new Set((line.located.container.env ?? []).map((e) => e.name));
    const used = commandLine(line.located.container).flatMap((a) => [...a.matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)].map((m) => m[1]!));
    expect(used.filter((v) => !defined.has(v))).toEqual([]);
  });
});

describe('reading help texts', () => {
  it('finds long flags, flags with values and short flags', () => {
    expect([...flagsIn('usage: x [--install-cni] [flags]\n  --node-name   n\n  -f --filename=<F>  file\n  -h --help\n  see --help.')].sort()).toEqual(
      ['--filename', '--help', '--install-cni', '--node-name', '-f', '-h'].sort(),
    );
  });
});
