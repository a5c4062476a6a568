import type { Allocation } from '../allocations';
import type { GcPod } from './types';
import { allocationKey, allocationKind, podAllocationValidity } from './validity';

const allocation = (over: Partial<Allocation> & { attributes?: Record<string, string> } = {}): Allocation => ({
  address: '10.0.0.5',
  block: '10.0.0.0/26',
  handleId: 'k8s-pod-network.c1',
  attributes: { node: 'n1', namespace: 'ns', pod: 'p' },
  sequenceNumber: 7n,
  blockAffinity: 'host:n1',
  ...over,
});

const pod = (over: Partial<GcPod> = {}): GcPod => ({ namespace: 'ns', name: 'p', nodeName: 'n1', phase: 'Running', podIPs: ['10.0.0.5'], ...over });

describe('what an allocation is for', () => {
  it.each([
    ['a pod address has both namespace and pod attributes', allocation(), 'pod'],
    ['an IPIP tunnel address has its type attribute', allocation({ attributes: { node: 'n1', type: 'ipipTunnelAddress' } }), 'tunnel'],
    ['a VXLAN IPv6 tunnel address has its type attribute', allocation({ attributes: { node: 'n1', type: 'vxlanV6TunnelAddress' } }), 'tunnel'],
    ['a WireGuard tunnel address has its type attribute', allocation({ attributes: { node: 'n1', type: 'wireguardTunnelAddress' } }), 'tunnel'],
    ['an address with only a node attribute is of unknown use', allocation({ attributes: { node: 'n1' } }), 'unknown'],
    ['an address with a pod but no namespace is of unknown use', allocation({ attributes: { node: 'n1', pod: 'p' } }), 'unknown'],
    ['an address with an unknown type is of unknown use', allocation({ attributes: { node: 'n1', type: 'loadBalancer' } }), 'unknown'],
    ['a Windows host reservation is recognised by its handle, in any case', allocation({ handleId: 'Windows-Reserved-IPAM-Handle' }), 'windows-reserved'],
    ['a sticky StatefulSet address in use is its identity\'s, not its pod\'s', allocation({ handleId: 'atoll-sticky.db.pg.0', attributes: { node: 'n1', namespace: 'db', pod: 'pg-0' } }), 'sticky'],
    ['an idle sticky StatefulSet address is its identity\'s', allocation({ handleId: 'atoll-sticky-idle.db.pg.3', attributes: { node: 'n1', namespace: 'db', pod: 'pg-3' } }), 'sticky'],
    ['a handle that only looks sticky is judged as usual', allocation({ handleId: 'atoll-sticky.db' }), 'pod'],
  ])('%s', (_sentence, a, kind) => {
    expect(allocationKind(a)).toBe(kind);
  });
});

describe('whether a pod allocation is still in use', () => {
  it.each<[string, GcPod | undefined, boolean, string]>([
    ['an allocation whose pod is not found is leaked', undefined, false, 'pod not found'],
    ['an allocation whose pod now runs on another node is leaked', pod({ nodeName: 'n2' }), false, 'pod is now on node n2'],
    ['an allocation whose pod is not scheduled yet is kept', pod({ nodeName: undefined, podIPs: [] }), true, 'pod IP not reported yet'],
    ['an allocation whose pod has not reported its IP yet is kept', pod({ phase: 'Pending', podIPs: [] }), true, 'pod IP not reported yet'],
    ['an allocation of an evicted pod is leaked even though the pod reports the address', pod({ phase: 'Failed', reason: 'Evicted' }), false, 'pod was evicted'],
    ['an allocation of an evicted pod that reports no IP is kept (the not-reported rule comes first, as in Calico)', pod({ phase: 'Failed', reason: 'Evicted', podIPs: [] }), true, 'pod IP not reported yet'],
    ['an allocation of a failed pod that was not evicted and still reports the address is kept', pod({ phase: 'Failed', reason: 'Error' }), true, 'pod has the address'],
    ['an allocation whose pod reports the address is kept', pod(), true, 'pod has the address'],
    ['an allocation whose dual-stack pod reports it second is kept', pod({ podIPs: ['fd00::5', '10.0.0.5'] }), true, 'pod has the address'],
    ['an allocation whose pod reports only other addresses is leaked', pod({ podIPs: ['10.0.0.6'] }), false, 'pod does not have the address'],
    ['an allocation whose pod reports an unreadable IP is kept', pod({ podIPs: ['not-an-ip'] }), true, 'pod IP "not-an-ip" unreadable'],
  ])('%s', (_sentence, p, valid, reason) => {
    expect(podAllocationValidity(allocation(), p)).toEqual({ valid, reason });
  });

  it('compares IPv6 addresses by value, not by how they are written', () => {
    const a = allocation({ address: 'fd00::a', block: 'fd00::/122' });
    expect(podAllocationValidity(a, pod({ podIPs: ['FD00:0:0:0:0:0:0:A'] }))).toEqual({ valid: true, reason: 'pod has the address' });
  });

  it('does not compare nodes when the allocation has no node attribute', () => {
    expect(podAllocationValidity(allocation({ attributes: { namespace: 'ns', pod: 'p' } }), pod({ nodeName: 'n9' })).valid).toBe(true);
  });
});

describe('the identity of an allocation across scans', () => {
  it('changes when the address is reassigned, even to the same handle', () => {
    expect(allocationKey(allocation())).not.toBe(allocationKey(allocation({ sequenceNumber: 8n })));
    expect(allocationKey(allocation())).toBe(allocationKey(allocation()));
  });
});
