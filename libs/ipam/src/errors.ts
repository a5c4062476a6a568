// Typed IPAM errors with stable codes. Each code is mapped once to a gRPC status at the
// allocator's edge and once to a CNI error code in the plugin; nothing classifies errors
// by their message text. Messages keep Calico's wording where Calico has one.

export type IpamErrorCode =
  | 'invalid-argument' // the request itself is malformed
  | 'not-in-pool' // a specific address outside every enabled pool
  | 'already-assigned' // a specific address already in use
  | 'use-not-allowed' // a pool's allowedUses refuses the intended use
  | 'no-qualified-pool' // no pool can serve the request
  | 'no-pools-for-node' // no pool selects this node
  | 'pool-not-found' // a requested pool does not exist or is disabled
  | 'block-limit' // the per-host block limit is reached
  | 'no-free-block' // nothing left to claim and auto-allocation is off
  | 'node-not-found' // the Node resource for the host is missing
  | 'not-found' // a handle, affinity, address or resource that does not exist
  | 'already-exists' // a resource created twice
  | 'conflict' // a resource changed since the version the caller read
  | 'pool-exhausted' // fewer addresses than requested were available (all-or-nothing requests)
  | 'sequence-mismatch' // a release carried a stale sequence number or another handle
  | 'affinity-mismatch' // strict affinity refused a block owned by another host
  | 'block-not-empty' // an affinity release that required an empty block
  | 'in-cooldown' // a released address still cooling down
  | 'config-invalid' // IPAM configuration rules
  | 'max-retries' // too many concurrent writers; try again later
  | 'unavailable' // the datastore cannot be reached; try again later
  | 'internal';

const RETRYABLE: ReadonlySet<IpamErrorCode> = new Set(['max-retries', 'unavailable']);

export class IpamError extends Error {
  readonly retryable: boolean;
  constructor(
    readonly code: IpamErrorCode,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'IpamError';
    this.retryable = RETRYABLE.has(code);
  }
}

export function isIpamError(err: unknown, code?: IpamErrorCode): err is IpamError {
  return err instanceof IpamError && (code === undefined || err.code === code);
}

/** Calico's exact texts, in one place. */
export const Messages = {
  notInPool: 'The provided IP address is not in a configured pool\n',
  alreadyAssigned: (ip: string) => `resource already exists: ${ip} with error: Address already assigned in block`,
  noQualifiedPool: 'cannot find a qualified ippool',
  noPoolsForUse: (use: string) => `cannot find a qualified ippool, no pools match the required use (${use})`,
  noPoolsForNode: (host: string) => `no configured Calico pools for node ${host}`,
  poolNotEnabled: (cidr: string) => `the given pool (${cidr}) does not exist, or is not enabled`,
  blockLimit: 'cannot allocate new block due to per host block limit',
  blockLimitMsg: (n: number) => `Need to allocate an IPAM block but could not - limit of ${n} blocks reached for this node`,
  strictAffinityMsg: 'No more free affine blocks and strict affinity enabled',
  noIpsInPools: (cidrs: string[]) => `No IPs available in pools: [${cidrs.join(' ')}]`,
  failedToClaim: 'failed to find or claim a block',
  maxRetries: 'Max retries hit - excessive concurrent IPAM requests',
  mustSpecifyUse: 'must specify the intended use when assigning an IP',
  wrongFamilyPools: (want: 4 | 6) =>
    want === 4
      ? 'provided IPv4 IPPools list contains one or more IPv6 IPPools'
      : 'provided IPv6 IPPools list contains one or more IPv4 IPPools',
  useNotAllowed: (ip: string, pool: string, use: string, allowed: readonly string[]) =>
    `IP address ${ip} is in IP pool "${pool}", which is not allowed for use "${use}" (allowedUses: [${allowed.join(' ')}])`,
  affinityMismatch: 'Block host affinity does not match',
  noAffinity: (cidr: string) => `Attempt to assign from block ${cidr} with no affinity`,
  seqMismatch: (given: bigint, actual: bigint) =>
    `the given sequence number (${given}) does not match (${actual}) when attempting to release IP`,
  handleMismatch: (given: string, actual: string) =>
    `the given handle (${given}) does not match (${actual}) when attempting to release IP`,
  blockNotEmpty: (cidr: string) => `block '${cidr}' is not empty`,
  inCooldown: (ip: string) => `address ${ip} is in cooldown`,
  bothDisabled: "Cannot disable 'StrictAffinity' and 'AutoAllocateBlocks' at the same time",
  maxBlocksNeedsStrict: 'MaxBlocksPerHost requires StrictAffinity to be enabled',
  nodeNotFound: (host: string) => `resource does not exist: Node(${host}) with error: node not found`,
  handleNotFound: (handle: string) => `resource does not exist: IPAMHandle(${handle})`,
  noIpSpecified: 'No IP address specified in options',
  cidrNotInPool: (cidr: string) => `The requested CIDR (${cidr}) is not within any configured pools.`,
  cidrTooSmall: (cidr: string) => `The requested CIDR (${cidr}) is smaller than the minimum.`,
  hostRequired: 'Hostname must be specified to release block affinity',
} as const;
