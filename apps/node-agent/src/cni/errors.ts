// CNI error codes the agent answers with. Codes below 100 are the CNI spec's; 100 and
// above are Atoll's IPAM refusals, so a runtime (or a person reading kubelet events) can
// tell "address taken" from "pool full" without parsing text.

export const CniCode = {
  incompatibleVersion: 1,
  badEnv: 4,
  badStdin: 6,
  badConfig: 7,
  tryAgainLater: 11,
  notAvailable: 50, // STATUS: the plugin cannot serve ADD right now (CNI 1.1)
  addressInUse: 100,
  addressNotInPool: 101,
  poolExhausted: 102,
  noUsablePool: 103,
  badAddressRequest: 104,
  nodeNotRegistered: 105,
  internal: 110,
} as const;

export class CniFailure extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly details = '',
  ) {
    super(message);
    this.name = 'CniFailure';
  }
}

const BY_ALLOCATOR_CODE: Readonly<Record<string, number>> = {
  'already-assigned': CniCode.addressInUse,
  'not-in-pool': CniCode.addressNotInPool,
  'pool-exhausted': CniCode.poolExhausted,
  'block-limit': CniCode.poolExhausted,
  'no-free-block': CniCode.poolExhausted,
  'no-qualified-pool': CniCode.noUsablePool,
  'no-pools-for-node': CniCode.noUsablePool,
  'pool-not-found': CniCode.noUsablePool,
  'use-not-allowed': CniCode.noUsablePool,
  'affinity-mismatch': CniCode.noUsablePool,
  'invalid-argument': CniCode.badAddressRequest,
  'node-not-found': CniCode.nodeNotRegistered,
  unavailable: CniCode.tryAgainLater,
  'max-retries': CniCode.tryAgainLater,
};

/** What to do about each refusal, appended to the message the runtime shows. */
const ADVICE: Readonly<Record<number, string>> = {
  [CniCode.addressInUse]: 'choose another address or release the one in use',
  [CniCode.addressNotInPool]: 'use an address inside an enabled IPPool (atollctl get ippools)',
  [CniCode.poolExhausted]: 'add an IPPool or free addresses (atollctl ipam show)',
  [CniCode.noUsablePool]: "check the IPPools' nodeSelector, allowedUses and disabled fields (atollctl get ippools -o wide)",
  [CniCode.nodeNotRegistered]: 'the node agent registers the node at start; check its log',
  [CniCode.tryAgainLater]: 'the allocator or etcd is unreachable; the runtime will retry',
};

/** Maps an allocator error (RpcError-like: code + message) to a CNI failure. */
export function fromAllocatorError(err: unknown, context: string): CniFailure {
  if (err instanceof CniFailure) return err;
  const e = err as { code?: string; message?: string };
  const code: number = (e.code ? BY_ALLOCATOR_CODE[e.code] : undefined) ?? CniCode.internal;
  const message = `${context}: ${(e.message ?? String(err)).trimEnd()}`;
  return new CniFailure(code, message, ADVICE[code] ?? '');
}
