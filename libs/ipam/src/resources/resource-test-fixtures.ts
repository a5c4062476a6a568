import { Datastore } from '@atoll/store';
import type { EngineEnv } from '../testing/fixtures';
import { ResourceRepository, ResourceRepositoryOptions } from './resource-repository';

// Shared inputs of the resource repository's tests: Calico-documentation-like resources.

export const NOW = new Date('2026-08-01T10:00:00.123Z');
export const NOW_TEXT = '2026-08-01T10:00:00Z';

export function makeRepository(
  env: EngineEnv,
  opts: Partial<ResourceRepositoryOptions> & { datastore?: Datastore } = {},
): ResourceRepository {
  return new ResourceRepository({ datastore: env.ds, engine: env.engine, now: () => NOW, poolDeleteGraceMs: 0, ...opts });
}

export const ipv4Pool = (name = 'default-ipv4-ippool', spec: Record<string, unknown> = {}) => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'IPPool',
  metadata: { name },
  spec: { cidr: '192.168.0.0/16', ipipMode: 'Always', natOutgoing: true, ...spec },
});

export const reservation = (name = 'my-ipreservation-1', reservedCIDRs = ['192.168.2.3', '10.0.2.3/32', 'cafe:f00d::/123']) => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'IPReservation',
  metadata: { name },
  spec: { reservedCIDRs },
});

export const node = (name = 'node-hostname', labels: Record<string, string> = { 'kubernetes.io/os': 'linux' }) => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'Node',
  metadata: { name, labels },
  spec: {
    bgp: { asNumber: 64512, ipv4Address: '10.244.0.1/24', ipv4IPIPTunnelAddr: '192.168.0.1' },
  },
});

export const ipamConfiguration = (spec: Record<string, unknown> = {}, name = 'default') => ({
  apiVersion: 'projectcalico.org/v3',
  kind: 'IPAMConfiguration',
  metadata: { name },
  spec,
});
