import http from 'node:http';
import https from 'node:https';
import { parseJsonLossless, stringifyJsonLossless, type JsonValue } from '@atoll/model';
import { CliError } from '../errors';

// Requests to the Kubernetes API with the kubeconfig's server and credentials as
// @kubernetes/client-node resolves them, but with bodies read and written by the lossless
// JSON codec: client-node's JSON.parse would round Calico's uint64 sequence numbers.

export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

export interface KubeHttp {
  readonly server: string;
  request(method: string, path: string, body?: unknown, contentType?: string): Promise<JsonValue>;
}

const REQUEST_TIMEOUT_MS = 30_000;

export async function kubeHttpFromFile(kubeconfigPath: string): Promise<KubeHttp> {
  // Loaded only by the migrate commands: client-node is an ES module and large, and every
  // other command (and their unit tests) does without it.
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(kubeconfigPath);
  } catch (err) {
    throw new CliError(`cannot read the kubeconfig ${JSON.stringify(kubeconfigPath)}: ${(err as Error).message}`);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new CliError(`the kubeconfig ${JSON.stringify(kubeconfigPath)} names no current cluster`);
  const server = cluster.server.replace(/\/+$/, '');
  // One connection pool for the whole run: thousands of writes otherwise open thousands of sockets.
  const agentOptions = { keepAlive: true, maxSockets: 8 };
  const agent = server.startsWith('https:') ? new https.Agent(agentOptions) : new http.Agent(agentOptions);

  const request = async (method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<JsonValue> => {
    const url = new URL(`${server}${path}`);
    const options: https.RequestOptions = { method, headers: { Accept: 'application/json' } };
    await kc.applyToHTTPSOptions(options);
    const text = body === undefined ? undefined : stringifyJsonLossless(body);
    if (text !== undefined) Object.assign(options.headers!, { 'Content-Type': contentType, 'Content-Length': String(Buffer.byteLength(text)) });
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = transport.request(url, { ...options, agent, timeout: REQUEST_TIMEOUT_MS }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          let parsed: JsonValue = null;
          try {
            parsed = raw.trim() === '' ? null : parseJsonLossless(raw);
          } catch {
            parsed = null;
          }
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) return resolve(parsed);
          const st = (parsed ?? {}) as { reason?: string; message?: string };
          reject(new KubeApiError(status, st.reason ?? 'Unknown', `${method} ${path}: ${status} ${st.message ?? raw.slice(0, 200)}`));
        });
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer from ${server} within ${REQUEST_TIMEOUT_MS / 1000} s`)));
      req.on('error', (err) => reject(new CliError(`cannot reach the Kubernetes API at ${server}: ${err.message}`)));
      req.end(text);
    });
  };
  return { server, request };
}
