import type { CallOpts, PromiseClient } from './client';
import { CoalescingCalls, type Settled } from './coalescing-calls';
import { fromCallError } from './errors';
import type { AutoAssignRequest, AutoAssignResponse, CallError, IpamClient, ReleaseByHandleRequest, ReleaseByHandleResponse } from './generated/atoll/ipam/v1/ipam';

// AutoAssign and ReleaseByHandle as a node agent makes them: coalesced into the batch
// calls while an earlier call is in flight (see CoalescingCalls). Answers and errors are
// exactly those of the plain calls.

export interface CoalescedIpamCalls {
  autoAssign(req: AutoAssignRequest, opts?: CallOpts): Promise<AutoAssignResponse>;
  releaseByHandle(req: ReleaseByHandleRequest, opts?: CallOpts): Promise<ReleaseByHandleResponse>;
}

function settled<Res>(o: { response?: Res | undefined; error?: CallError | undefined }): Settled<Res> {
  if (o.error) return { error: fromCallError(o.error) };
  if (o.response === undefined) return { error: fromCallError({ code: 'internal', message: 'the allocator answered a batched request with neither a result nor an error', retryable: false }) };
  return { ok: o.response };
}

export function coalesceIpamCalls(ipam: PromiseClient<IpamClient>, defaultTimeoutMs = 10_000): CoalescedIpamCalls {
  const assign = new CoalescingCalls<AutoAssignRequest, AutoAssignResponse>({
    single: (req, opts) => ipam.autoAssign(req, opts),
    batch: async (requests, opts) => (await ipam.autoAssignBatch({ requests }, opts)).outcomes.map(settled),
    defaultTimeoutMs,
  });
  const release = new CoalescingCalls<ReleaseByHandleRequest, ReleaseByHandleResponse>({
    single: (req, opts) => ipam.releaseByHandle(req, opts),
    batch: async (requests, opts) => (await ipam.releaseByHandleBatch({ requests }, opts)).outcomes.map(settled),
    defaultTimeoutMs,
  });
  return {
    autoAssign: (req, opts) => assign.call(req, opts),
    releaseByHandle: (req, opts) => release.call(req, opts),
  };
}
