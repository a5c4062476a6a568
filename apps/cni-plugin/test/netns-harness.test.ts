import fs from 'node:fs';
import {
  buildPluginConfig,
  cleanupNetnsWithPrefix,
  createNetns,
  findPlugin,
  listNetnsWithPrefix,
  runCniPlugin,
  uniqueNetnsName,
} from '../../../tools/netns';
import { DIST_BIN } from './plugin-binary';

// The test harness itself (tools/netns): it must behave like libcni where the plugins can
// tell, and it must only ever delete namespaces it was asked to.

describe('buildPluginConfig', () => {
  it('injects name, cniVersion and prevResult and sorts keys at every level, as libcni does', () => {
    const text = buildPluginConfig({
      pluginDir: '/x',
      plugin: 'bridge',
      command: 'DEL',
      config: { type: 'bridge', ipam: { type: 'atoll-ipam', agent_socket: '/s' }, name: 'old' },
      name: 'net1',
      cniVersion: '1.0.0',
      prevResult: { ips: [{ address: '10.0.0.5/24' }], cniVersion: '1.0.0' },
    });
    expect(text).toBe(
      '{"cniVersion":"1.0.0","ipam":{"agent_socket":"/s","type":"atoll-ipam"},"name":"net1","prevResult":{"cniVersion":"1.0.0","ips":[{"address":"10.0.0.5/24"}]},"type":"bridge"}',
    );
  });

  it('passes GC attachments under both names libcni uses', () => {
    const conf = JSON.parse(
      buildPluginConfig({ pluginDir: '/x', plugin: 'p', command: 'GC', config: { type: 'p' }, validAttachments: [{ containerID: 'c1', ifname: 'eth0' }] }),
    ) as Record<string, unknown>;
    expect(conf['cni.dev/valid-attachments']).toEqual([{ containerID: 'c1', ifname: 'eth0' }]);
    expect(conf['cni.dev/attachments']).toEqual(conf['cni.dev/valid-attachments']);
  });
});

describe('findPlugin', () => {
  it('takes the first directory of CNI_PATH that has the plugin', () => {
    expect(findPlugin('atoll-ipam', `/nonexistent:${DIST_BIN}:/usr/lib/cni`)).toBe(`${DIST_BIN}/atoll-ipam`);
  });

  it('says where it looked when the plugin is nowhere', () => {
    expect(() => findPlugin('nope', '/a:/b')).toThrow('failed to find plugin "nope" in path [/a /b]');
  });
});

describe('runCniPlugin', () => {
  it('runs VERSION with only CNI_COMMAND and CNI_PATH', async () => {
    const r = await runCniPlugin({ pluginDir: DIST_BIN, plugin: 'atoll-ipam', command: 'VERSION', config: { cniVersion: '0.4.0' } });
    expect(r).toMatchObject({ code: 0, json: { cniVersion: '0.4.0' } });
  });
});

describe('network namespaces', () => {
  const prefix = uniqueNetnsName('atoll-h-');

  afterAll(() => cleanupNetnsWithPrefix(prefix));

  it('creates a namespace with its loopback up, runs commands in it, and deletes it (twice is fine)', async () => {
    const ns = await createNetns(`${prefix}-a`);
    expect(ns.path).toBe(`/var/run/netns/${prefix}-a`);
    expect(fs.existsSync(ns.path)).toBe(true);
    const r = await ns.exec('ip', ['-j', 'link', 'show', 'lo']);
    expect((JSON.parse(r.stdout) as { flags: string[] }[])[0]?.flags).toContain('UP');
    await ns.delete();
    await ns.delete();
    expect(fs.existsSync(ns.path)).toBe(false);
  });

  it('refuses names that are not plain', async () => {
    await expect(createNetns('../etc')).rejects.toThrow('invalid network namespace name');
    await expect(createNetns('a b')).rejects.toThrow('invalid network namespace name');
  });

  it('cleans up only the namespaces with the given prefix', async () => {
    const mine = await createNetns(`${prefix}-b`);
    const other = await createNetns(uniqueNetnsName('atoll-other-'));
    try {
      expect(await cleanupNetnsWithPrefix(prefix)).toEqual([`${prefix}-b`]);
      expect(listNetnsWithPrefix(prefix)).toEqual([]);
      expect(fs.existsSync(other.path)).toBe(true);
    } finally {
      await mine.delete();
      await other.delete();
    }
  });

  it.each(['', 'a', 'at', '../'])('refuses to sweep with the prefix %j', async (p) => {
    await expect(cleanupNetnsWithPrefix(p)).rejects.toThrow('refusing to delete namespaces');
  });
});
