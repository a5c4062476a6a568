import type { Container } from './manifests';

// Reading a container's command line the way the binaries' parsers (node:util parseArgs,
// atollctl's) read it: "--flag=value", "--flag value", bare boolean "--flag".

/** The whole command line: command then args. */
export const commandLine = (c: Container): readonly string[] => [...(c.command ?? []), ...(c.args ?? [])];

/** The value of --name (either spelling); undefined when absent. */
export function flagValue(argv: readonly string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3);
    if (a === `--${name}`) {
      const next = argv[i + 1];
      return next !== undefined && !next.startsWith('-') ? next : '';
    }
  }
  return undefined;
}

export const hasFlag = (argv: readonly string[], name: string): boolean => flagValue(argv, name) !== undefined;

/** Long flag names used ("--name" or "--name=…"), in order. */
export const longFlags = (argv: readonly string[]): string[] =>
  argv.filter((a) => a.startsWith('--')).map((a) => a.slice(2).split('=')[0]!);

/** Short flags used ("-f"), in order. */
export const shortFlags = (argv: readonly string[]): string[] => argv.filter((a) => /^-[a-zA-Z]$/.test(a));

/** The env var a container defines, as the kubelet would expand $(NAME) (only plain values and field refs). */
export function envSource(c: Container, name: string): { value?: string; fieldPath?: string; configMapKey?: { name: string; key: string } } | undefined {
  const e = c.env?.find((v) => v.name === name);
  if (!e) return undefined;
  const vf = e.valueFrom as { fieldRef?: { fieldPath: string }; configMapKeyRef?: { name: string; key: string } } | undefined;
  return {
    ...(e.value !== undefined && { value: e.value }),
    ...(vf?.fieldRef && { fieldPath: vf.fieldRef.fieldPath }),
    ...(vf?.configMapKeyRef && { configMapKey: vf.configMapKeyRef }),
  };
}
