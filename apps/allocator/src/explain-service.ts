import { unaryHandlers, type AsyncHandlers, type ExplainServer, type FamilyExplanation } from '@atoll/api';
import { explainAutoAssign, type ExplainDeps, type FamilyExplanation as EngineFamily } from '@atoll/ipam';
import { autoAssignRequest } from './ipam-service';

// The Explain gRPC service: an AutoAssign request as a node agent would send it, answered
// with what the engine would do (libs/ipam explain/: the real assignment, writes kept in
// memory). Nothing is allocated.

function wireFamily(f: EngineFamily): FamilyExplanation {
  return {
    version: f.version,
    pools: f.pools.map((p) => ({
      name: p.pool.name,
      cidr: p.pool.cidrText,
      verdict: p.verdict.verdict,
      reason: p.verdict.verdict === 'skipped' ? p.verdict.reason : '',
      detail: p.verdict.verdict === 'skipped' ? p.verdict.detail : '',
    })),
    addresses: f.addresses.map((a) => ({ ip: a.ip, pool: a.pool, block: a.block, blockChoice: a.blockChoice })),
  };
}

export function explainHandlers(deps: ExplainDeps): ExplainServer {
  const handlers: AsyncHandlers<ExplainServer> = {
    explainAutoAssign: async (req) => {
      const e = await explainAutoAssign(deps, autoAssignRequest(req, undefined));
      return { families: e.families.map(wireFamily), errorCode: e.error?.code ?? '', errorMessage: e.error?.message ?? '' };
    },
  };
  return unaryHandlers<ExplainServer>(handlers);
}
