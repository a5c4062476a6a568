import { startEtcdCluster } from '../etcd/launcher';

// The launcher is what every etcd-backed test stands on: prove that a cluster it starts
// serves writes, survives a member crash, and leaves no process behind.
async function put(url: string, key: string, value: string): Promise<void> {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const res = await fetch(`${url}/v3/kv/put`, {
    method: 'POST',
    body: JSON.stringify({ key: b64(key), value: b64(value) }),
  });
  if (!res.ok) throw new Error(`put failed: ${res.status}`);
}

async function get(url: string, key: string): Promise<string | undefined> {
  const res = await fetch(`${url}/v3/kv/range`, {
    method: 'POST',
    body: JSON.stringify({ key: Buffer.from(key).toString('base64') }),
  });
  const body = (await res.json()) as { kvs?: { value: string }[] };
  const v = body.kvs?.[0]?.value;
  return v === undefined ? undefined : Buffer.from(v, 'base64').toString();
}

async function retry(op: () => Promise<void>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await op();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('etcd launcher', () => {
  it('starts a single member that stores values and stops it by pid', async () => {
    const cluster = await startEtcdCluster();
    const url = cluster.endpoints[0]!;
    await put(url, '/atoll/launcher-test', 'hello');
    expect(await get(url, '/atoll/launcher-test')).toBe('hello');
    const pid = cluster.members[0]!.pid;
    await cluster.stop();
    expect(alive(pid)).toBe(false);
  });

  it('keeps a three-member cluster serving while one member is killed and restarted', async () => {
    const cluster = await startEtcdCluster({ members: 3 });
    try {
      const [a, b, c] = cluster.members;
      await put(a!.clientUrl, '/atoll/k', 'v1');
      await c!.kill();
      expect(alive(c!.pid)).toBe(false);
      // if c was the leader, the others need a moment to elect a new one
      await retry(() => put(b!.clientUrl, '/atoll/k', 'v2'));
      c!.start();
      await c!.waitHealthy();
      // the restarted member rejoins with its old data dir and catches up
      let seen: string | undefined;
      for (let i = 0; i < 50 && seen !== 'v2'; i++) {
        seen = await get(c!.clientUrl, '/atoll/k');
        if (seen !== 'v2') await new Promise((r) => setTimeout(r, 100));
      }
      expect(seen).toBe('v2');
    } finally {
      await cluster.stop();
    }
    expect(cluster.members.every((m) => !alive(m.pid))).toBe(true);
  });
});
