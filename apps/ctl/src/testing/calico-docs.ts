// YAML copied unchanged from Calico's documentation (tigera/docs), for tests: atollctl must
// accept what Calico's users already have.

/** calico/reference/resources/ippool.mdx, "Sample YAML". */
export const IPPOOL_REFERENCE_SAMPLE = `apiVersion: projectcalico.org/v3
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
`;

/** calico/networking/ipam/assign-ip-addresses-topology.mdx, two pools joined with ---. */
export const TOPOLOGY_RACK_POOLS = `apiVersion: projectcalico.org/v3
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
`;

/** calico/reference/resources/ipreservation.mdx, "Sample YAML". */
export const IPRESERVATION_REFERENCE_SAMPLE = `apiVersion: projectcalico.org/v3
kind: IPReservation
metadata:
  name: my-ipreservation-1
spec:
  reservedCIDRs:
    - 192.168.2.3
    - 10.0.2.3/32
    - cafe:f00d::/123
`;

/** calico/reference/resources/node.mdx, "Sample YAML". */
export const NODE_REFERENCE_SAMPLE = `apiVersion: projectcalico.org/v3
kind: Node
metadata:
  name: node-hostname
spec:
  bgp:
    asNumber: 64512
    ipv4Address: 10.244.0.1/24
    ipv6Address: 2001:db8:85a3::8a2e:370:7334/120
    ipv4IPIPTunnelAddr: 192.168.0.1
`;

/** A pool overlapping the reference sample's 10.1.0.0/16, named like Calico's default pool. */
export const OVERLAPPING_POOL = `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: default-ipv4-ippool
spec:
  cidr: 10.1.128.0/17
`;
