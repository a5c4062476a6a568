import { startEtcdCluster, type EtcdCluster } from '../../../tools/etcd/launcher';
import { fillUntilNoSpace, noSpaceAlarmRaised, recoverSpace } from '../../../tools/chaos/etcd-space';

// The chaos suite's `etcd-nospace` fault, alone: ballast raises etcd's NOSPACE alarm, and the
// operator's steps (delete, compact, defragment every member, disarm) clear it without a
// restart. A private 3-member etcd with a small quota, never the shared one.

const put = (url: string, key: string, value: string) =>
  fetch(`${url}/v3/kv/put`, { method: 'POST', body: JSON.stringify({ key: Buffer.from(key).toString('base64'), value: Buffer.from(value).toString('base64') }) }).then(async (r) => ({ ok: r.ok, text: await r.text() }));

describe('filling etcd to its quota and recovering as an operator would', () => {
  let cluster: EtcdCluster;
  beforeAll(async () => {
    cluster = await startEtcdCluster({ members: 3, extraArgs: ['--quota-backend-bytes', String(8 * 1024 * 1024)] });
  }, 60_000);
  afterAll(() => cluster?.stop());

  it('raises NOSPACE, refuses writes until the steps are done, then accepts them again on every member', async () => {
    expect(await fillUntilNoSpace(cluster)).toMatch(/database space exceeded/);
    expect(await noSpaceAlarmRaised(cluster)).toBe(true);
    const refused = await put(cluster.endpoints[1]!, '/after', 'x');
    expect(refused.ok).toBe(false);
    expect(refused.text).toMatch(/space/);

    await recoverSpace(cluster);
    expect(await noSpaceAlarmRaised(cluster)).toBe(false);
    for (const url of cluster.endpoints) expect(await put(url, '/after', url)).toMatchObject({ ok: true });
  }, 90_000);
});
