import http from 'node:http';

// Plain node:http requests and watch streams against the stand-in, so tests see exactly
// the status codes, headers and bytes a client would (no client library in between).

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

export interface RequestOptions {
  body?: unknown;
  contentType?: string;
  token?: string;
  accept?: string;
}

export function request(baseUrl: string, method: string, path: string, opts: RequestOptions = {}): Promise<RawResponse> {
  const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  const headers: Record<string, string> = {};
  if (body !== undefined) {
    headers['Content-Type'] = opts.contentType ?? 'application/json';
    // node sends DELETE bodies unframed unless the length is given
    headers['Content-Length'] = String(Buffer.byteLength(body));
  }
  if (opts.token !== undefined) headers.Authorization = `Bearer ${opts.token}`;
  if (opts.accept !== undefined) headers.Accept = opts.accept;
  return new Promise((resolve, reject) => {
    const req = http.request(`${baseUrl}${path}`, { method, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

export interface WatchLine {
  type: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  object: any;
}

export interface RawWatch {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Every event received so far. */
  readonly events: WatchLine[];
  /** Resolves with the next event not yet taken, or rejects after `timeoutMs`. */
  next(timeoutMs?: number): Promise<WatchLine>;
  /** Takes events until `count` have been taken; resolves them. */
  take(count: number, timeoutMs?: number): Promise<WatchLine[]>;
  /** Resolves once the server ended the stream. */
  readonly ended: Promise<void>;
  close(): void;
}

export function openWatch(baseUrl: string, path: string, opts: { token?: string } = {}): Promise<RawWatch> {
  const headers: Record<string, string> = {};
  if (opts.token !== undefined) headers.Authorization = `Bearer ${opts.token}`;
  return new Promise((resolve, reject) => {
    const req = http.get(`${baseUrl}${path}`, { headers, agent: false }, (res) => {
      const events: WatchLine[] = [];
      let taken = 0;
      let buffer = '';
      let waiter: (() => void) | undefined;
      let endedResolve!: () => void;
      const ended = new Promise<void>((r) => (endedResolve = r));
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          if (line.trim()) events.push(JSON.parse(line) as WatchLine);
        }
        waiter?.();
      });
      res.on('end', () => {
        endedResolve();
        waiter?.();
      });
      res.on('close', () => {
        endedResolve();
        waiter?.();
      });
      const next = async (timeoutMs = 2000): Promise<WatchLine> => {
        const deadline = Date.now() + timeoutMs;
        while (taken >= events.length) {
          if (res.complete || res.destroyed) throw new Error(`watch ended after ${events.length} events`);
          const left = deadline - Date.now();
          if (left <= 0) throw new Error(`no watch event within ${timeoutMs} ms (got ${JSON.stringify(events)})`);
          await new Promise<void>((r) => {
            const t = setTimeout(r, left);
            waiter = () => {
              clearTimeout(t);
              r();
            };
          });
          waiter = undefined;
        }
        return events[taken++]!;
      };
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        events,
        next,
        async take(count, timeoutMs) {
          const out: WatchLine[] = [];
          for (let i = 0; i < count; i++) out.push(await next(timeoutMs));
          return out;
        },
        ended,
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
  });
}
