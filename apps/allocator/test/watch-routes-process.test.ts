import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { connectAllocator, IntendedUse, type AllocatorClients, type RouteUpdate } from '@atoll/api';
import type { ClientReadableStream, StatusObject } from '@grpc/grpc-js';
import { startAllocatorProcess, testNamespace, type AllocatorProcess } from '@atoll/test-tools';

// WatchRoutes end to end: the allocator process serving on a unix socket, a client reading
// the stream, and the stream ended cleanly when the allocator shuts down.
const endpoints = (process.env.ATOLL_TEST_ETCD_ENDPOINTS ?? '').split(',').filter(Boolean);

const resource = (kind: string, name: string, spec: Record<string, unknown>) => JSON.stringify({ apiVersion: 'projectcalico.org/v3', kind, metadata: { name }, spec });

/** Collects a stream's messages and its final status. */
function collect(stream: ClientReadableStream<RouteUpdate>) {
  const messages: RouteUpdate[] = [];
  const status = new Promise<StatusObject>((resolve) => stream.on('status', resolve));
  stream.on('data', (m: RouteUpdate) => messages.push(m));
  stream.on('error', () => undefined); // the status carries it
  const waitFor = async (what: string, predicate: (all: RouteUpdate[]) => boolean) => {
    const deadline = Date.now() + 5000;
    while (!predicate(messages)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(messages)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  return { messages, status, waitFor };
}

describe('WatchRoutes from the allocator process on a unix socket', () => {
  let dir: string;
  let allocator: AllocatorProcess | undefined;
  let client: AllocatorClients | undefined;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atoll-routes-'));
  });
  afterEach(async () => {
    client?.close();
    await allocator?.stop('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves a snapshot then deltas, and ends the stream with OK when the allocator stops', async () => {
    const socket = path.join(dir, 'run', 'allocator.sock');
    allocator = await startAllocatorProcess({ etcdEndpoints: endpoints, namespace: testNamespace(), listen: `unix:${socket}` });
    expect(fs.statSync(socket).mode & 0o777).toBe(0o600);
    expect(fs.statSync(path.dirname(socket)).mode & 0o777).toBe(0o700);

    client = connectAllocator(`unix:${socket}`);
    await client.resources.apply({ resourceJson: resource('IPPool', 'pods', { cidr: '10.80.0.0/16', natOutgoing: true }) });
    await client.resources.apply({ resourceJson: resource('Node', 'node-a', { bgp: { ipv4Address: '172.30.0.1/24' } }) });
    const stream = collect(client.watchRoutes());
    await stream.waitFor('the snapshot', (m) => m.length === 1);
    expect(stream.messages[0]).toMatchObject({
      snapshot: true,
      nodes: [{ name: 'node-a', ipv4Address: '172.30.0.1/24', ipv6Address: '' }],
      blocks: [],
      pools: [{ name: 'pods', cidr: '10.80.0.0/16', natOutgoing: true, ipipMode: 'Never', vxlanMode: 'Never', disabled: false }],
    });

    const r = await client.ipam.autoAssign({ num4: 1, num6: 0, handleId: 'h1', attributes: { node: 'node-a' }, hostname: 'node-a', ipv4Pools: [], ipv6Pools: [], maxBlocksPerHost: 0, intendedUse: IntendedUse.INTENDED_USE_WORKLOAD, namespaceLabels: {}, allOrNothing: true });
    const block = (await client.ipam.getAssignmentAttributes({ ip: r.ipv4!.ips[0]!.split('/')[0]! })).block;
    await stream.waitFor('the block', (m) => m.some((u) => u.blocks.some((b) => b.cidr === block)));
    expect(stream.messages.at(-1)).toMatchObject({ snapshot: false, blocks: [{ cidr: block, node: 'node-a' }] });

    const metrics = await (await fetch(`${allocator.metricsUrl}/metrics`)).text();
    expect(metrics).toMatch(/^atoll_allocator_route_watchers 1$/m);
    expect(metrics).toMatch(/^atoll_allocator_route_messages_total\{kind="snapshot"\} 1$/m);

    const started = Date.now();
    const exit = await allocator.stop('SIGTERM');
    expect(exit).toBe(0);
    expect((await stream.status).code).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(fs.existsSync(socket)).toBe(false);
  });
});
