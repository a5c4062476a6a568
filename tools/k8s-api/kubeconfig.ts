import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

// A kubeconfig for the stand-in that both kubectl and @kubernetes/client-node load.
// `insecure-skip-tls-verify: true` is required although nothing is TLS: client-node 1.x
// throws "HTTP protocol is not allowed when skipTLSVerify is not set or false" for an
// http:// server otherwise. kubectl accepts the flag on an http:// server and ignores it.

export const KUBECONFIG_NAME = 'atoll-stand-in';

/** The file's text (YAML; values are JSON-quoted, which YAML reads as plain strings). */
export function renderKubeconfig(server: string, token?: string, namespace = 'default'): string {
  const q = (s: string) => JSON.stringify(s);
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${KUBECONFIG_NAME}`,
    '  cluster:',
    `    server: ${q(server)}`,
    '    insecure-skip-tls-verify: true',
    'users:',
    `- name: ${KUBECONFIG_NAME}`,
    token === undefined ? '  user: {}' : `  user:\n    token: ${q(token)}`,
    'contexts:',
    `- name: ${KUBECONFIG_NAME}`,
    '  context:',
    `    cluster: ${KUBECONFIG_NAME}`,
    `    user: ${KUBECONFIG_NAME}`,
    `    namespace: ${q(namespace)}`,
    `current-context: ${KUBECONFIG_NAME}`,
    '',
  ].join('\n');
}

export interface WrittenKubeconfig {
  readonly path: string;
  /** Removes the file (and the temporary directory it was written to, if any). */
  remove(): void;
}

/** Writes to `target`, or to a fresh temporary directory when no target is given. Mode 0600: it may hold a token. */
export function writeKubeconfig(server: string, token: string | undefined, target?: string): WrittenKubeconfig {
  const dir = target === undefined ? mkdtempSync(path.join(tmpdir(), 'atoll-kube-')) : undefined;
  const file = target ?? path.join(dir!, 'kubeconfig');
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, renderKubeconfig(server, token), { mode: 0o600 });
  return {
    path: file,
    remove: () => rmSync(dir ?? file, { recursive: true, force: true }),
  };
}
