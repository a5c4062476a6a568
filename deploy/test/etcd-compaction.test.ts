import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { commandLine, flagValue } from './support/args';
import { find, render, type PodSpec } from './support/manifests';

// etcd keeps every revision until something compacts it, and nothing in Atoll does: the
// StatefulSet's members compact their own history, keeping 5 minutes of it (enough for a
// watch to resume after a short outage; the allocator re-lists after a longer one).

const ETCD = [process.env['ATOLL_ETCD_BIN'], '/usr/bin/etcd', '/usr/local/bin/etcd'].find((p): p is string => !!p && existsSync(p));

const etcdArgv = (): readonly string[] => {
  const pod = (find(render('base'), 'StatefulSet', 'atoll-etcd')['spec'] as { template: { spec: PodSpec } }).template.spec;
  const container = pod.containers.find((c) => c.name === 'etcd');
  if (!container) throw new Error('StatefulSet/atoll-etcd has no container named etcd');
  return commandLine(container);
};

describe('the etcd StatefulSet', () => {
  const argv = etcdArgv();

  it.each([
    ['auto-compaction-mode', 'periodic'],
    ['auto-compaction-retention', '5m'],
  ])('runs etcd with --%s=%s', (flag, value) => {
    expect(flagValue(argv, flag)).toBe(value);
  });

  it('uses compaction flags that etcd itself documents', () => {
    if (!ETCD) throw new Error('etcd not found: install it with `apt-get install -y etcd-server` or set ATOLL_ETCD_BIN');
    const help = execFileSync(ETCD, ['--help'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    for (const flag of ['--auto-compaction-mode', '--auto-compaction-retention']) expect(help).toContain(`${flag} `);
  });
});
