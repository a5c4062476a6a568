import { loadResources, ResourceLoadError } from './index';

// Sample YAML copied unchanged from Calico's docs (tigera/docs). Each must load as written,
// or be refused for a reason Calico's own code would refuse it for.

const IPPOOL_REFERENCE_SAMPLE = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: my.ippool-1
spec:
  cidr: 10.1.0.0/16
  ipipMode: CrossSubnet
  natOutgoing: true
  disabled: false
  nodeSelector: all()
  allowedUses:
    - Workload
    - Tunnel
  assignmentMode: Automatic
`; // calico/reference/resources/ippool.mdx

const IPPOOL_REFERENCE_SAMPLE_BEFORE_ASSIGNMENT_MODE = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: my.ippool-1
spec:
  cidr: 10.1.0.0/16
  ipipMode: CrossSubnet
  natOutgoing: true
  disabled: false
  nodeSelector: all()
  allowedUses:
    - Workload
    - Tunnel
`; // calico/reference/resources/ippool.mdx, an earlier revision

const TOPOLOGY_ZONE_POOL = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: zone-west-ippool
spec:
  cidr: 192.168.0.0/24
  ipipMode: Always
  natOutgoing: true
  nodeSelector: zone == "west"
`; // calico/networking/ipam/assign-ip-addresses-topology.mdx

const TOPOLOGY_RACK_POOLS = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: rack-0-ippool
spec:
  cidr: 192.168.0.0/24
  ipipMode: Always
  natOutgoing: true
  nodeSelector: rack == "0"
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: rack-1-ippool
spec:
  cidr: 192.168.1.0/24
  ipipMode: Always
  natOutgoing: true
  nodeSelector: rack == "1"
`; // the same page, two pools joined with ---

const CHANGE_BLOCK_SIZE_POOLS = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: temporary-pool
spec:
  cidr: 10.0.0.0/16
  ipipMode: Always
  natOutgoing: true
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: default-ipv4-ippool
spec:
  blockSize: 28
  cidr: 192.0.0.0/16
  ipipMode: Always
  natOutgoing: true
`; // calico/networking/ipam/change-block-size.mdx

const IPRESERVATION_REFERENCE_SAMPLE = `apiVersion: projectcalico.org/v3
kind: IPReservation
metadata:
  name: my-ipreservation-1
spec:
  reservedCIDRs:
    - 192.168.2.3
    - 10.0.2.3/32
    - cafe:f00d::/123
`; // calico/reference/resources/ipreservation.mdx

const IPRESERVATION_REFERENCE_SAMPLE_OLD_INDENT = `apiVersion: projectcalico.org/v3
kind: IPReservation
metadata:
  name: my-ipreservation-1
spec:
  reservedCIDRs:
  - 192.168.2.3
  - 10.0.2.3/32
  - cafe:f00d::/123
`; // the same page, an earlier revision

const NODE_REFERENCE_SAMPLE = `apiVersion: projectcalico.org/v3
kind: Node
metadata:
  name: node-hostname
spec:
  bgp:
    asNumber: 64512
    ipv4Address: 10.244.0.1/24
    ipv6Address: 2001:db8:85a3::8a2e:370:7334/120
    ipv4IPIPTunnelAddr: 192.168.0.1
`; // calico/reference/resources/node.mdx

const IPAMCONFIG_REFERENCE_SAMPLE = `apiVersion: projectcalico.org/v3
kind: IPAMConfiguration
metadata:
  name: default
spec:
  strictAffinity: false
  maxBlocksPerHost: 4
  kubeVirtVMAddressPersistence: Disabled
`; // calico/reference/resources/ipamconfig.mdx

const LOADBALANCER_POOL_SAMPLE = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
 name: loadbalancerIPPool
spec:
 cidr: 192.210.0.0/20
 blockSize: 24
 natOutgoing: true
 disabled: false
 assignmentMode: Automatic
 allowedUses:
  - LoadBalancer
`; // calico/networking/ipam/service-loadbalancer.mdx

describe("Calico docs' sample YAML", () => {
  it('loads the IPPool reference sample as written', () => {
    expect(loadResources(IPPOOL_REFERENCE_SAMPLE, 'ippool.mdx')).toEqual([
      {
        apiVersion: 'projectcalico.org/v3',
        kind: 'IPPool',
        metadata: { name: 'my.ippool-1' },
        spec: {
          cidr: '10.1.0.0/16',
          ipipMode: 'CrossSubnet',
          natOutgoing: true,
          disabled: false,
          nodeSelector: 'all()',
          allowedUses: ['Workload', 'Tunnel'],
          assignmentMode: 'Automatic',
        },
      },
    ]);
  });

  it.each([
    ['the IPPool reference sample from before assignmentMode', IPPOOL_REFERENCE_SAMPLE_BEFORE_ASSIGNMENT_MODE, ['my.ippool-1']],
    ['the zone topology pool', TOPOLOGY_ZONE_POOL, ['zone-west-ippool']],
    ['the two rack topology pools', TOPOLOGY_RACK_POOLS, ['rack-0-ippool', 'rack-1-ippool']],
    ['the change-block-size pools', CHANGE_BLOCK_SIZE_POOLS, ['temporary-pool', 'default-ipv4-ippool']],
    ['the IPReservation reference sample', IPRESERVATION_REFERENCE_SAMPLE, ['my-ipreservation-1']],
    ['the IPReservation reference sample with list items at key indentation', IPRESERVATION_REFERENCE_SAMPLE_OLD_INDENT, ['my-ipreservation-1']],
    ['the Node reference sample', NODE_REFERENCE_SAMPLE, ['node-hostname']],
  ])('loads %s', (_title, text, names) => {
    expect(loadResources(text, 'docs.yaml').map((r) => r.metadata.name)).toEqual(names);
  });

  it('keeps the selector text of the topology pool exactly', () => {
    const [pool] = loadResources(TOPOLOGY_ZONE_POOL);
    expect(pool?.spec).toMatchObject({ nodeSelector: 'zone == "west"' });
  });

  it('keeps the reservation entries exactly as written', () => {
    const [reservation] = loadResources(IPRESERVATION_REFERENCE_SAMPLE);
    expect(reservation?.spec).toEqual({ reservedCIDRs: ['192.168.2.3', '10.0.2.3/32', 'cafe:f00d::/123'] });
  });

  it('defaults the docs pool like Calico would store it', () => {
    const [pool] = loadResources(TOPOLOGY_ZONE_POOL, 'pools.yaml', { applyDefaults: true });
    expect(pool?.spec).toEqual({
      cidr: '192.168.0.0/24',
      ipipMode: 'Always',
      natOutgoing: true,
      nodeSelector: 'zone == "west"',
      blockSize: 26,
      vxlanMode: 'Never',
      disabled: false,
      disableBGPExport: false,
      allowedUses: ['Workload', 'Tunnel'],
      assignmentMode: 'Automatic',
    });
  });

  // The two samples below are refused, and Calico's code would refuse them too; the docs are wrong.
  it('refuses the IPAMConfiguration sample: a block limit needs strict affinity (Calico SetIPAMConfig)', () => {
    expect(() => loadResources(IPAMCONFIG_REFERENCE_SAMPLE, 'ipamconfig.yaml')).toThrow(
      'ipamconfig.yaml: document 1 (IPAMConfiguration "default"): spec.maxBlocksPerHost: MaxBlocksPerHost requires StrictAffinity to be enabled',
    );
  });

  it('refuses the LoadBalancer pool sample: its name has upper case (Calico validateObjectMeta)', () => {
    let error: unknown;
    try {
      loadResources(LOADBALANCER_POOL_SAMPLE, 'lb.yaml');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ResourceLoadError);
    expect((error as ResourceLoadError).problems.map((p) => p.field)).toEqual(['metadata.name']);
    expect((error as ResourceLoadError).message).toContain(
      `lb.yaml: document 1 (IPPool "loadbalancerIPPool"): metadata.name: name must consist of lower case alphanumeric characters, '-' or '.'`,
    );
  });

  it('loads the LoadBalancer pool sample once the name is lower case', () => {
    const fixed = LOADBALANCER_POOL_SAMPLE.replace('loadbalancerIPPool', 'loadbalancer-ippool');
    expect(loadResources(fixed)[0]?.spec).toMatchObject({ allowedUses: ['LoadBalancer'], blockSize: 24 });
  });
});
