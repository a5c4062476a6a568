import fs from 'node:fs';
import path from 'node:path';
import type { Server, ServerCredentials } from '@grpc/grpc-js';
import { hostPort, unixSocketPath } from './config';

// Where the allocator serves gRPC: host:port, or a unix socket (for node agents in another
// network namespace of the same machine). The socket is root-only: created 0600 (umask
// while binding, then pinned), in a directory created 0700 when it does not exist.

export interface GrpcListener {
  /** The TCP port (0 for a unix socket). */
  readonly port: number;
  /** For logs: host:port or unix:/path. */
  readonly shown: string;
  /** Removes the socket file (after the server has stopped). */
  cleanup(): void;
}

export async function bindGrpc(server: Server, listen: string, credentials: ServerCredentials): Promise<GrpcListener> {
  const socketPath = unixSocketPath('listen', listen);
  if (socketPath === undefined) {
    const { host, port } = hostPort('listen', listen);
    const bound = await bind(server, `${host.includes(':') ? `[${host}]` : host}:${port}`, credentials);
    return { port: bound, shown: `${host}:${bound}`, cleanup: () => undefined };
  }
  fs.mkdirSync(path.dirname(socketPath), { recursive: true, mode: 0o700 });
  fs.rmSync(socketPath, { force: true }); // a socket left by a previous run
  const oldMask = process.umask(0o177);
  try {
    await bind(server, `unix:${socketPath}`, credentials);
  } finally {
    process.umask(oldMask);
  }
  fs.chmodSync(socketPath, 0o600);
  return { port: 0, shown: `unix:${socketPath}`, cleanup: () => fs.rmSync(socketPath, { force: true }) };
}

function bind(server: Server, target: string, credentials: ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => server.bindAsync(target, credentials, (err, port) => (err ? reject(err) : resolve(port))));
}
