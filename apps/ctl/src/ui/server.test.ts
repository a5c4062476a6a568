import { FakeAllocator, invalid } from '../testing/fake-allocator';
import { startUiServer, type RunningUiServer } from './server';
import { takeSnapshot } from './snapshot';

// The HTTP side alone, on loopback, with the snapshot taken from the fake allocator.

describe('the ipam ui server', () => {
  let server: RunningUiServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const start = async (fake: FakeAllocator, idleAfterMs?: number) => {
    server = await startUiServer({
      host: '127.0.0.1',
      port: 0,
      assets: { '/': { type: 'text/html; charset=utf-8', body: '<p>map</p>' } },
      refreshMs: 50,
      ...(idleAfterMs !== undefined && { idleAfterMs }),
      takeSnapshot: () => takeSnapshot(fake),
    });
    return `http://${server.address}`;
  };

  const waitFor = async (url: string, ok: (body: { status: { reachable: boolean; error: string } }) => boolean) => {
    for (let i = 0; i < 100; i++) {
      const body = await (await fetch(url)).json();
      if (ok(body)) return body;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no answer from ${url} as expected`);
  };

  it('serves the page, the snapshot and 404s, on a loopback port it chose', async () => {
    const base = await start(new FakeAllocator());
    expect(server!.address).toMatch(/^127\.0\.0\.1:\d+$/);
    const page = await fetch(`${base}/`);
    expect([page.status, page.headers.get('content-type'), await page.text()]).toEqual([200, 'text/html; charset=utf-8', '<p>map</p>']);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    const body = await waitFor(`${base}/api/snapshot`, (b) => b.status.reachable);
    expect(body.snapshot.pools).toEqual([]);
    expect((await fetch(`${base}/api/block?cidr=10.0.0.0/26`)).status).toBe(404);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`${base}/`, { method: 'POST' })).status).toBe(405);
  });

  it('keeps serving and says the allocator is unreachable when it stops answering', async () => {
    const fake = new FakeAllocator();
    const base = await start(fake);
    await waitFor(`${base}/api/snapshot`, (b) => b.status.reachable);
    fake.unreachable = true;
    const body = await waitFor(`${base}/api/snapshot`, (b) => !b.status.reachable);
    expect(body.status.error).toBe('No connection established. Last error: connect ECONNREFUSED 127.0.0.1:7443');
    expect(body.snapshot).not.toBeNull();
  });

  it('tells an allocator that answers with an error apart from one that does not answer', async () => {
    const fake = new FakeAllocator();
    fake.failNext.set('ipam.check', invalid('the datastore holds a block it cannot decode'));
    const base = await start(fake);
    const failed = await waitFor(`${base}/api/snapshot`, (b) => b.status.error !== 'no snapshot taken yet');
    expect(failed.status).toMatchObject({ reachable: true, error: 'the datastore holds a block it cannot decode' });
    expect(failed.snapshot).toBeNull();
    // The next refresh succeeds: the failure is not sticky.
    await waitFor(`${base}/api/snapshot`, (b) => b.status.error === '');
  });

  it('stops asking the allocator while no page asks, and resumes when one does', async () => {
    const fake = new FakeAllocator();
    const base = await start(fake, 200);
    await waitFor(`${base}/api/snapshot`, (b) => b.status.reachable);
    await new Promise((r) => setTimeout(r, 700));
    const before = fake.callsOf('ipam.check').length;
    await new Promise((r) => setTimeout(r, 300));
    expect(fake.callsOf('ipam.check').length).toBe(before);
    await fetch(`${base}/api/snapshot`);
    await new Promise((r) => setTimeout(r, 150));
    expect(fake.callsOf('ipam.check').length).toBeGreaterThan(before);
  });
});
