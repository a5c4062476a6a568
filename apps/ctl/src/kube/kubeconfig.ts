import path from 'node:path';
import { parseYamlDocument } from '@atoll/model';
import { CliError } from '../errors';

// The kubeconfig as kubectl finds and reads it: --kubeconfig, else the first file of
// $KUBECONFIG, else ~/.kube/config; its current context's cluster and user. Tokens and
// client certificates are supported; exec plugins and auth providers are not.

export interface KubeAccess {
  readonly server: string;
  readonly token?: string;
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly insecureSkipTlsVerify: boolean;
  /** Where it came from, for messages. */
  readonly source: string;
}

export interface KubeconfigIo {
  readFile(path: string): Promise<string>;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** Which file: the flag, else $KUBECONFIG's first entry, else ~/.kube/config. */
export function kubeconfigPath(flag: string | undefined, env: Readonly<Record<string, string | undefined>>): string {
  if (flag !== undefined && flag !== '') return flag;
  const fromEnv = (env['KUBECONFIG'] ?? '').split(path.delimiter).find((p) => p !== '');
  if (fromEnv) return fromEnv;
  if (!env['HOME']) throw new CliError('no kubeconfig: give --kubeconfig, or set KUBECONFIG or HOME');
  return path.join(env['HOME'], '.kube', 'config');
}

type Named<T> = { name?: unknown } & Record<string, T | unknown>;

function entry(list: unknown, kind: string, name: string, file: string): Record<string, unknown> {
  const found = Array.isArray(list) ? (list as Named<unknown>[]).find((e) => e && e.name === name) : undefined;
  const body = found?.[kind];
  if (!found || typeof body !== 'object' || body === null) throw new CliError(`kubeconfig ${file}: no ${kind} named ${JSON.stringify(name)}`);
  return body as Record<string, unknown>;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const b64 = (v: unknown): string | undefined => (str(v) ? Buffer.from(v as string, 'base64').toString('utf8') : undefined);

export async function loadKubeAccess(file: string, io: KubeconfigIo): Promise<KubeAccess> {
  let text: string;
  try {
    text = await io.readFile(file);
  } catch (err) {
    throw new CliError(`cannot read the kubeconfig ${file}: ${(err as Error).message}`);
  }
  let doc: Record<string, unknown>;
  try {
    doc = (parseYamlDocument(text, `kubeconfig ${file}`) ?? {}) as Record<string, unknown>;
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const current = str(doc['current-context']);
  if (!current) throw new CliError(`kubeconfig ${file} has no current-context`);
  const context = entry(doc['contexts'], 'context', current, file);
  const cluster = entry(doc['clusters'], 'cluster', String(context['cluster'] ?? ''), file);
  const user = context['user'] === undefined ? {} : entry(doc['users'], 'user', String(context['user']), file);
  if (user['exec'] !== undefined || user['auth-provider'] !== undefined) {
    throw new CliError(`kubeconfig ${file}: user ${JSON.stringify(context['user'])} authenticates with an exec plugin or auth provider, which atollctl does not run; use a context with a token or a client certificate`);
  }
  const server = str(cluster['server']);
  if (!server || !/^https?:\/\//.test(server)) throw new CliError(`kubeconfig ${file}: cluster ${JSON.stringify(context['cluster'])} has no http(s) server`);
  const relative = (p: string) => path.resolve(path.dirname(file), p);
  const readRef = async (p: string | undefined) => (p ? io.readFile(relative(p)) : undefined);
  const tokenFile = str(user['tokenFile']) ?? str(user['token-file']);
  const token = str(user['token']) ?? (tokenFile ? (await readRef(tokenFile))?.trim() : undefined);
  const ca = b64(cluster['certificate-authority-data']) ?? (await readRef(str(cluster['certificate-authority'])));
  const cert = b64(user['client-certificate-data']) ?? (await readRef(str(user['client-certificate'])));
  const key = b64(user['client-key-data']) ?? (await readRef(str(user['client-key'])));
  return {
    server: server.replace(/\/+$/, ''),
    ...(token && { token }),
    ...(ca && { ca }),
    ...(cert && { cert }),
    ...(key && { key }),
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
    source: file,
  };
}
