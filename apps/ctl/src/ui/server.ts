import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { oneLine } from '../errors';
import { isUnavailable } from '../rpc-errors';
import { blockDetail, search, type Snapshot } from './snapshot';

// The HTTP side of `ipam ui`: the page's three files and three JSON endpoints, over
// node:http. The server keeps the latest snapshot and refreshes it in the background, one
// refresh at a time and only while a page is open; a failed refresh keeps the last picture
// and says why.

export interface UiAsset {
  readonly type: string;
  readonly body: string;
}

export interface UiServerOptions {
  readonly host: string;
  readonly port: number;
  /** Path → file, e.g. "/" → index.html. */
  readonly assets: Readonly<Record<string, UiAsset>>;
  readonly takeSnapshot: () => Promise<Snapshot>;
  /** Time between the end of one refresh and the start of the next. */
  readonly refreshMs: number;
  /** Refreshing pauses when no page has asked for this long (default IDLE_AFTER_MS). */
  readonly idleAfterMs?: number;
}

export interface UiStatus {
  /** False when the last refresh failed because the allocator could not be reached. */
  readonly reachable: boolean;
  /** The last refresh's failure, '' after a success. */
  readonly error: string;
  /** When the last refresh ended (ISO). */
  readonly checkedAt: string;
}

export interface RunningUiServer {
  /** "host:port" actually bound. */
  readonly address: string;
  close(): Promise<void>;
}

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  // Everything comes from this server; nothing off the machine is ever loaded.
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'",
};

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, ...SECURITY_HEADERS });
  res.end(body);
}

const sendJson = (res: ServerResponse, status: number, value: unknown) => send(res, status, 'application/json; charset=utf-8', JSON.stringify(value));

/** With no page asking for this long, refreshing pauses until one asks again. */
export const IDLE_AFTER_MS = 30_000;

/**
 * The latest snapshot, refreshed in the background one refresh at a time: `refreshMs` after
 * the last one ended, or twice as long as it took if that is longer (a large cluster's
 * listing is not asked for back to back), and only while a page keeps asking.
 */
export class SnapshotKeeper {
  private current: Snapshot | undefined;
  private status: UiStatus = { reachable: false, error: 'no snapshot taken yet', checkedAt: '' };
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private looping = false;
  private lastAsked = Date.now();
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly take: () => Promise<Snapshot>,
    private readonly refreshMs: number,
    private readonly idleAfterMs = IDLE_AFTER_MS,
  ) {}

  get snapshot(): Snapshot | undefined {
    return this.current;
  }

  get state(): UiStatus {
    return this.status;
  }

  /** A page asked: resumes refreshing if it had paused. */
  asked(): void {
    this.lastAsked = Date.now();
    if (!this.looping && !this.stopped) this.start();
  }

  /** Takes one snapshot now (joining one under way). */
  refresh(): Promise<void> {
    this.inFlight ??= this.take()
      .then(
        (s) => {
          this.current = s;
          this.status = { reachable: true, error: '', checkedAt: new Date().toISOString() };
        },
        (err: unknown) => {
          // grpc-js ends its message with an empty "Resolution note:" when DNS played no part.
          const message = oneLine(err instanceof Error ? err.message : String(err)).replace(/\s*Resolution note:\s*$/, '');
          this.status = { reachable: !isUnavailable(err), error: message, checkedAt: new Date().toISOString() };
        },
      )
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }

  start(): void {
    this.looping = true;
    const loop = () => {
      if (this.stopped) return;
      const began = Date.now();
      void this.refresh().then(() => {
        if (this.stopped) return;
        if (Date.now() - this.lastAsked > this.idleAfterMs) {
          this.looping = false;
          return;
        }
        this.timer = setTimeout(loop, Math.max(this.refreshMs, 2 * (Date.now() - began)));
      });
    };
    loop();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}

function handle(keeper: SnapshotKeeper, assets: UiServerOptions['assets'], req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
  const asset = assets[url.pathname];
  if (asset) return send(res, 200, asset.type, asset.body);
  const snapshot = keeper.snapshot;
  switch (url.pathname) {
    case '/api/snapshot':
      keeper.asked();
      return sendJson(res, 200, { status: keeper.state, snapshot: snapshot?.summary ?? null });
    case '/api/block': {
      const detail = snapshot && blockDetail(snapshot, url.searchParams.get('cidr') ?? '');
      return detail ? sendJson(res, 200, detail) : sendJson(res, 404, { error: 'no such block' });
    }
    case '/api/search':
      return sendJson(res, 200, { hits: snapshot ? search(snapshot, url.searchParams.get('q') ?? '') : [] });
    default:
      return send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
  }
}

/** Starts serving; resolves once the port is bound. */
export async function startUiServer(opts: UiServerOptions): Promise<RunningUiServer> {
  const keeper = new SnapshotKeeper(opts.takeSnapshot, opts.refreshMs, opts.idleAfterMs);
  const server: Server = createServer((req, res) => {
    try {
      handle(keeper, opts.assets, req, res);
    } catch (err) {
      sendJson(res, 500, { error: oneLine((err as Error).message) });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  keeper.start();
  const bound = server.address() as AddressInfo;
  return {
    address: bound.family === 'IPv6' ? `[${bound.address}]:${bound.port}` : `${bound.address}:${bound.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        keeper.stop();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
