import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { discoveryDocument } from './discovery';
import { sendError, sendJson } from './http-io';
import type { ObjectStore } from './object-store';
import { handleResourceRequest } from './resource-handlers';
import type { ResourceOperations } from './resource-operations';
import { parseRoute } from './routes';
import { ApiError, resourceNotFound, unauthorized } from './status';
import { WatchStream, type WatchParams } from './watch-stream';

// The HTTP front: loopback-only plain HTTP, optional bearer-token check, routing, and the
// registry of open watch streams (so stop() can end them instead of waiting for clients).

export interface ApiServerOptions {
  readonly store: ObjectStore;
  readonly operations: ResourceOperations;
  readonly port: number;
  /** When set, every request must carry `Authorization: Bearer <token>`. */
  readonly token?: string;
  readonly bookmarkIntervalMs: number;
  readonly logger?: Logger;
}

export interface ApiServer {
  readonly url: string;
  readonly openWatchCount: () => number;
  /** Ends every open watch stream cleanly, as the apiserver does when a watch times out. */
  closeWatches(): void;
  close(): Promise<void>;
}

function authorized(req: IncomingMessage, token: string | undefined): boolean {
  if (token === undefined) return true;
  return req.headers.authorization === `Bearer ${token}`;
}

export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const watches = new Set<WatchStream>();
  let serverAddress = '';

  const openWatch = (res: ServerResponse, params: WatchParams) => {
    const stream = new WatchStream(opts.store, res, params, (s) => watches.delete(s));
    watches.add(stream);
    stream.start();
  };
  const context = { operations: opts.operations, bookmarkIntervalMs: opts.bookmarkIntervalMs, openWatch };

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!authorized(req, opts.token)) throw unauthorized();
    const url = new URL(req.url ?? '/', 'http://stand-in');
    const target = parseRoute(url.pathname);
    switch (target.kind) {
      case 'discovery':
        return sendJson(res, 200, discoveryDocument(target.document, serverAddress));
      case 'health':
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('ok');
        return;
      case 'collection':
      case 'object':
        return handleResourceRequest(context, req, res, target, url.searchParams);
      case 'unknown':
        throw resourceNotFound();
    }
  }

  const server: Server = createServer({ noDelay: true }, (req, res) => {
    const started = Date.now();
    route(req, res).then(
      () => opts.logger?.debug({ method: req.method, url: req.url, code: res.statusCode, ms: Date.now() - started }, 'request'),
      (err: unknown) => {
        const code = sendError(res, err);
        const fields = { method: req.method, url: req.url, code, ms: Date.now() - started };
        // refusals (4xx) are part of the protocol; only a 500 is the stand-in's own bug
        if (code >= 500) opts.logger?.error({ ...fields, err }, 'request failed');
        else opts.logger?.debug({ ...fields, reason: err instanceof ApiError ? err.status.reason : undefined }, 'request refused');
      },
    );
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  serverAddress = `127.0.0.1:${port}`;

  const closeWatches = () => {
    for (const w of [...watches]) w.close();
  };
  return {
    url: `http://${serverAddress}`,
    openWatchCount: () => watches.size,
    closeWatches,
    async close() {
      closeWatches();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // idle keep-alive connections would otherwise hold close() open for seconds
      server.closeAllConnections();
      await closed;
    },
  };
}
