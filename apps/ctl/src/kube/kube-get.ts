import http from 'node:http';
import https from 'node:https';
import { CliError } from '../errors';
import type { KubeAccess } from './kubeconfig';

/** A Kubernetes object as read: what explain needs of it. */
export interface KubeObject {
  readonly metadata?: { readonly name?: string; readonly labels?: Record<string, string>; readonly annotations?: Record<string, string> };
  readonly spec?: { readonly nodeName?: string };
}

const TIMEOUT_MS = 10_000;

/** GET of one object; undefined when the API server says 404. */
export function getKubeObject(access: KubeAccess, apiPath: string): Promise<KubeObject | undefined> {
  const url = new URL(access.server + apiPath);
  const secure = url.protocol === 'https:';
  const options: https.RequestOptions = {
    method: 'GET',
    headers: { accept: 'application/json', ...(access.token && { authorization: `Bearer ${access.token}` }) },
    timeout: TIMEOUT_MS,
    ...(secure && {
      ...(access.ca && { ca: access.ca }),
      ...(access.cert && { cert: access.cert }),
      ...(access.key && { key: access.key }),
      rejectUnauthorized: !access.insecureSkipTlsVerify,
    }),
  };
  return new Promise((resolve, reject) => {
    const req = (secure ? https : http).request(url, options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        if (res.statusCode === 404) return resolve(undefined);
        if (res.statusCode !== 200) {
          let message = body.trim().slice(0, 300);
          try {
            message = (JSON.parse(body) as { message?: string }).message ?? message;
          } catch {
            // not a Status object: keep the text
          }
          return reject(new CliError(`the Kubernetes API at ${access.server} answered ${res.statusCode} for ${apiPath}: ${message}`));
        }
        try {
          resolve(JSON.parse(body) as KubeObject);
        } catch {
          reject(new CliError(`the Kubernetes API at ${access.server} answered ${apiPath} with something that is not JSON`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS / 1000} s`)));
    req.on('error', (err) => reject(new CliError(`cannot reach the Kubernetes API at ${access.server} (kubeconfig ${access.source}): ${err.message}`)));
    req.end();
  });
}
