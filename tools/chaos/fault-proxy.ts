import net from 'node:net';

/**
 * What the proxy does with the bytes of its connections:
 * - `pass`: forwards both ways;
 * - `blackhole`: swallows both ways (the connections stay open, nothing arrives);
 * - `drop-replies`: forwards requests, swallows the answers (a one-way partition).
 * Swallowed bytes are gone for good, as after a lossy link that never retransmits: a
 * connection that lost bytes stays broken after the heal, and only a client that notices
 * (keepalive, deadline) recovers from it.
 */
export type ProxyMode = 'pass' | 'blackhole' | 'drop-replies';

export interface FaultProxy {
  /** `127.0.0.1:<port>` to give clients instead of the target. */
  readonly address: string;
  mode: ProxyMode;
  /** Connections accepted so far (a client that reconnects after a fault makes a new one). */
  readonly connectionsAccepted: number;
  close(): Promise<void>;
}

/** A TCP proxy on loopback in front of `target` (`host:port`), whose faults are set by `mode`. */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const [host, portText] = splitHostPort(target);
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const proxy = {
    mode: 'pass' as ProxyMode,
    address: '',
    get connectionsAccepted() {
      return accepted;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  };
  const server = net.createServer((client) => {
    accepted++;
    const upstream = net.connect(Number(portText), host);
    track(client);
    track(upstream);
    client.on('data', (chunk) => {
      if (proxy.mode === 'pass' || proxy.mode === 'drop-replies') upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (proxy.mode === 'pass') client.write(chunk);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  proxy.address = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return proxy;
}

function splitHostPort(target: string): [string, string] {
  const m = /^(?:https?:\/\/)?([^:/]+):(\d+)\/?$/.exec(target);
  if (!m) throw new Error(`fault proxy target must be host:port, got ${JSON.stringify(target)}`);
  return [m[1]!, m[2]!];
}
