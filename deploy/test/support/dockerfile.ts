import { readFileSync } from 'node:fs';

// A small Dockerfile reader for static checks (Docker cannot run where these tests do):
// stages, and per stage its WORKDIR, COPY, RUN, USER and ENTRYPOINT instructions.

export interface Copy {
  readonly from?: string;
  readonly sources: readonly string[];
  readonly dest: string;
}

export interface Stage {
  readonly image: string;
  readonly name?: string;
  workdir: string;
  readonly copies: Copy[];
  readonly runs: string[];
  user?: string;
  entrypoint?: readonly string[];
}

/** Instructions with continuation lines joined and comments and parser directives dropped. */
function instructions(text: string): { keyword: string; rest: string }[] {
  const out: { keyword: string; rest: string }[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (pending !== '' && line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = `${pending}${line}`.trim();
    pending = '';
    const m = /^(\w+)\s+([\s\S]*)$/.exec(full);
    if (m) out.push({ keyword: m[1]!.toUpperCase(), rest: m[2]! });
  }
  return out;
}

/** JSON (exec) form or whitespace-separated words. */
function words(rest: string): string[] {
  if (rest.startsWith('[')) return JSON.parse(rest) as string[];
  return rest.split(/\s+/).filter(Boolean);
}

export function parseDockerfile(file: string): Stage[] {
  const stages: Stage[] = [];
  for (const { keyword, rest } of instructions(readFileSync(file, 'utf8'))) {
    if (keyword === 'FROM') {
      const [image, as, name] = words(rest).filter((w) => !w.startsWith('--'));
      stages.push({ image: image!, ...(as?.toUpperCase() === 'AS' && name && { name }), workdir: '/', copies: [], runs: [] });
      continue;
    }
    const stage = stages[stages.length - 1];
    if (!stage) throw new Error(`${file}: ${keyword} before FROM`);
    switch (keyword) {
      case 'WORKDIR':
        stage.workdir = rest.startsWith('/') ? rest : `${stage.workdir.replace(/\/$/, '')}/${rest}`;
        break;
      case 'COPY': {
        const all = words(rest);
        const flags = all.filter((w) => w.startsWith('--'));
        const paths = all.filter((w) => !w.startsWith('--'));
        const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
        stage.copies.push({ ...(from && { from }), sources: paths.slice(0, -1), dest: paths[paths.length - 1]! });
        break;
      }
      case 'RUN':
        stage.runs.push(rest);
        break;
      case 'USER':
        stage.user = rest.trim();
        break;
      case 'ENTRYPOINT':
        stage.entrypoint = words(rest);
        break;
      default:
        break;
    }
  }
  return stages;
}

/** Where a COPY puts one source (a destination ending in "/" is a directory). */
export function destinationOf(copy: Copy, source: string, workdir: string): string {
  const dest = copy.dest.startsWith('/') ? copy.dest : `${workdir.replace(/\/$/, '')}/${copy.dest}`;
  return dest.endsWith('/') ? `${dest}${source.split('/').filter(Boolean).pop()}` : dest;
}
