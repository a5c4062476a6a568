import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { CniRequest, CniResponse } from '@atoll/api';
import type { Logger } from 'pino';
import { CniCode, CniFailure } from './cni/errors';

// The agent's unix socket: one JSON request line in, one JSON response line out, per
// connection. Root-only (directory 0700, socket 0600). Oversized or slow requests are cut
// off without holding up anyone else.

export interface SocketServerOptions {
  readonly path: string;
  readonly handle: (req: CniRequest) => Promise<string>;
  readonly log: Logger;
  /** Largest request accepted (bytes). */
  readonly maxRequestBytes?: number;
  /** A client must send its whole request within this time. */
  readonly readTimeoutMs?: number;
}

export interface SocketServer {
  readonly path: string;
  close(): Promise<void>;
}

const FIELDS: (keyof CniRequest)[] = ['command', 'containerId', 'ifname', 'netns', 'args', 'networkConfig'];

function parseRequest(line: string): CniRequest {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (err) {
    throw new CniFailure(CniCode.badStdin, `malformed request from the plugin: ${(err as Error).message}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new CniFailure(CniCode.badStdin, 'malformed request from the plugin: not a JSON object');
  const o = v as Record<string, unknown>;
  const out: Record<string, string> = {};
  for (const f of FIELDS) {
    const x = o[f] ?? '';
    if (typeof x !== 'string') throw new CniFailure(CniCode.badStdin, `malformed request from the plugin: ${f} must be a string`);
    out[f] = x;
  }
  return out as unknown as CniRequest;
}

function responseLine(r: CniResponse | { result: string }): string {
  return `${JSON.stringify(r)}\n`;
}

function errorResponse(err: unknown): string {
  const f = err instanceof CniFailure ? err : new CniFailure(CniCode.internal, (err as Error)?.message ?? String(err));
  return responseLine({ result: '', error: { code: f.code, msg: f.message, details: f.details } });
}

export async function startSocketServer(opts: SocketServerOptions): Promise<SocketServer> {
  const maxBytes = opts.maxRequestBytes ?? 1024 * 1024;
  const readTimeoutMs = opts.readTimeoutMs ?? 5000;
  fs.mkdirSync(path.dirname(opts.path), { recursive: true, mode: 0o700 });
  fs.rmSync(opts.path, { force: true }); // a socket left by a previous run

  const server = net.createServer((conn) => {
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (text: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      conn.end(text);
    };
    const timer = setTimeout(() => {
      opts.log.warn('plugin request not received in time; closing the connection');
      finish(errorResponse(new CniFailure(CniCode.badStdin, `request not received within ${readTimeoutMs} ms`)));
    }, readTimeoutMs);
    conn.on('error', () => clearTimeout(timer));
    conn.on('data', (chunk: Buffer) => {
      if (done) return;
      buf = Buffer.concat([buf, chunk]);
      const nl = buf.indexOf(0x0a);
      if (nl < 0) {
        if (buf.length > maxBytes) finish(errorResponse(new CniFailure(CniCode.badStdin, `request larger than ${maxBytes} bytes`)));
        return;
      }
      clearTimeout(timer);
      let req: CniRequest;
      try {
        req = parseRequest(buf.subarray(0, nl).toString('utf8'));
      } catch (err) {
        finish(errorResponse(err));
        return;
      }
      opts.handle(req).then(
        (result) => finish(responseLine({ result })),
        (err: unknown) => finish(errorResponse(err)),
      );
    });
  });
  // Create the socket with no permissions for others from the start, then pin it to 0600.
  const oldMask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.path, () => resolve());
    });
  } finally {
    process.umask(oldMask);
  }
  fs.chmodSync(opts.path, 0o600);
  return {
    path: opts.path,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          fs.rmSync(opts.path, { force: true });
          resolve();
        });
      }),
  };
}
