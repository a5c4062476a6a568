import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { connectAllocator, HealthService, HealthServiceDefinition, IpamServer, IpamService, RpcError, unaryHandlers } from './index';

class FakeIpamError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

async function startServer(): Promise<{ server: Server; address: string; health: HealthService }> {
  const server = new Server();
  const health = new HealthService();
  health.set('', true);
  const handlers = unaryHandlers<IpamServer>({
    assignIp: async (req: { ip: string }) => {
      if (req.ip === '1.1.1.1') throw new FakeIpamError('not-in-pool', 'The provided IP address is not in a configured pool\n', false);
      if (req.ip === 'boom') throw new Error('secret internals');
      return { ip: req.ip };
    },
  } as never);
  server.addService(IpamService, handlers);
  server.addService(HealthServiceDefinition, health.implementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { server, address: `127.0.0.1:${port}`, health };
}

describe('the allocator API over gRPC', () => {
  let env: Awaited<ReturnType<typeof startServer>>;
  beforeAll(async () => {
    env = await startServer();
  });
  afterAll(async () => {
    await new Promise<void>((r) => env.server.tryShutdown(() => r()));
  });

  it('answers a call through the promise client', async () => {
    const c = connectAllocator(env.address);
    await expect(c.ipam.assignIp({ ip: '10.0.0.1', handleId: 'h', attributes: {}, hostname: 'n', intendedUse: 'INTENDED_USE_WORKLOAD' as never })).resolves.toEqual({ ip: '10.0.0.1' });
    c.close();
  });

  it('carries the stable error code, Calico\'s message and retryability across the wire', async () => {
    const c = connectAllocator(env.address);
    const err = await c.ipam.assignIp({ ip: '1.1.1.1', handleId: 'h', attributes: {}, hostname: 'n', intendedUse: 'INTENDED_USE_WORKLOAD' as never }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcError);
    expect(err).toMatchObject({ code: 'not-in-pool', message: 'The provided IP address is not in a configured pool\n', retryable: false, grpcCode: 9 });
    c.close();
  });

  it('hides the details of unexpected errors', async () => {
    const c = connectAllocator(env.address);
    const err = (await c.ipam.assignIp({ ip: 'boom', handleId: 'h', attributes: {}, hostname: 'n', intendedUse: 'INTENDED_USE_WORKLOAD' as never }).catch((e: unknown) => e)) as RpcError;
    expect(err.code).toBe('internal');
    expect(err.message).not.toContain('secret');
    c.close();
  });

  it('reports the health service', async () => {
    const c = connectAllocator(env.address);
    await expect(c.health.check({ service: '' })).resolves.toEqual({ status: 'SERVING' });
    env.health.set('', false);
    await expect(c.health.check({ service: '' })).resolves.toEqual({ status: 'NOT_SERVING' });
    env.health.set('', true);
    c.close();
  });

  it('fails fast with a retryable error when nothing listens', async () => {
    const c = connectAllocator('127.0.0.1:1', { defaultTimeoutMs: 500 });
    const t0 = Date.now();
    const err = (await c.ipam.ipsByHandle({ handleId: 'h' }).catch((e: unknown) => e)) as RpcError;
    expect(err.code).toBe('unavailable');
    expect(err.retryable).toBe(true);
    expect(Date.now() - t0).toBeLessThan(5000);
    c.close();
  });
});

describe('generated code', () => {
  it('matches the .proto files', () => {
    const out = execFileSync(process.execPath, [path.join(__dirname, '../scripts/codegen.js'), '--check'], { encoding: 'utf8' });
    expect(out).toContain('src/generated matches proto/');
  });
});

describe('promise client types', () => {
  it('exposes only the unary calls as promise methods', () => {
    const c = connectAllocator('127.0.0.1:1');
    expect(typeof c.ipam.assignIp).toBe('function');
    expect(typeof c.health.check).toBe('function');
    // The type checker (the build target) proves these are not promise calls:
    // @ts-expect-error close is a channel operation, not a call
    expect(c.ipam.close).toBeUndefined();
    // @ts-expect-error watch is a server stream
    expect(c.health.watch).toBeUndefined();
    c.close();
  });
});
