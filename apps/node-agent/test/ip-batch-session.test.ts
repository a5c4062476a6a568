import { cleanupNetnsWithPrefix, createNetns, uniqueNetnsName, type Netns } from '@atoll/test-tools';
import { IpBatchSession } from '../src/dataplane/ip-batch-session';

// The node side's long-lived iproute2 process, in a namespace the test made.

const PREFIX = 'atoll-ibs-';

describe('IpBatchSession', () => {
  let ns: Netns;
  let session: IpBatchSession;
  const links = async () => (await ns.exec('ip', ['-o', 'link'])).stdout;

  beforeAll(async () => {
    await cleanupNetnsWithPrefix(PREFIX);
    ns = await createNetns(uniqueNetnsName(PREFIX));
    session = new IpBatchSession(['nsenter', `--net=${ns.path}`, 'ip']);
  });

  afterAll(async () => {
    session?.close();
    await ns?.delete();
  });

  it('runs a request and resolves once its lines are done', async () => {
    await session.run(['link add s1a type veth peer name s1b', 'link set s1a up']);
    expect(await links()).toContain('s1a@s1b');
  });

  it('rejects only the request whose line failed, naming the line and the kernel\'s answer, when requests are in flight together', async () => {
    const ok = session.run(['link add s2a type veth peer name s2b']);
    const bad = session.run(['link add s2c type veth peer name s2d', 'link del nosuch0', 'link set s2c up']);
    const ok2 = session.run(['link set s2a up']);
    await expect(ok).resolves.toBeUndefined();
    await expect(bad).rejects.toThrow('link del nosuch0: Cannot find device "nosuch0"');
    await expect(ok2).resolves.toBeUndefined();
    // the node side keeps going after a failing line
    expect(await links()).toMatch(/s2c@s2d:.*UP/);
  });

  it('starts a new process after the old one died, failing what was in flight', async () => {
    const inFlight = session.run(['link add s3a type veth peer name s3b']);
    session.close();
    await expect(inFlight).rejects.toThrow(/closed|exited/);
    await session.run(['link add s4a type veth peer name s4b']);
    expect(await links()).toContain('s4a@s4b');
  });

  it('refuses a line with a line break in it', async () => {
    await expect(session.run(['link set lo up\nlink del s1a'])).rejects.toThrow('line break');
    expect(await links()).toContain('s1a@s1b');
  });
});
