import type {
  ApplyRequest,
  AssignIPRequest,
  AutoAssignRequest,
  DeleteResourceRequest,
  GetAssignmentAttributesRequest,
  GetResourceRequest,
  IpsByHandleRequest,
  ListAllocationsRequest,
  ListResourcesRequest,
  ReleaseByHandleRequest,
  ReleaseIPsRequest,
} from '@atoll/api';
import { HandOffReason, type GetHolderRequest, type HandOffRequest } from '@atoll/api';
import { IpamError, Messages } from '@atoll/ipam';
import { parseStickyHandle } from '@atoll/model';
import { describeIdentity, type Identity } from './identity';

// The authorization table: what each identity may call. Admins may call everything; a
// node only what its own agent needs, and only for itself (see NODE_RULES); a certificate
// that names neither is refused everything. A method missing from NODE_RULES is refused
// to nodes — new methods are admin-only until someone decides otherwise here.

/** Who owns addresses: the `node` attribute of allocations, read from the engine. */
export interface AllocationOwners {
  /** The `node` attribute of each allocated address of a handle (undefined: none); [] when the handle has no addresses. */
  nodesOfHandle(handleId: string): Promise<readonly (string | undefined)[]>;
  /** Whether an address is allocated and, if so, its `node` attribute. */
  ownerOfAddress(
    ip: string,
  ): Promise<{ readonly allocated: false } | { readonly allocated: true; readonly node: string | undefined; readonly attributes?: Readonly<Record<string, string>> }>;
}

export class PermissionDeniedError extends Error {
  readonly code = 'permission-denied';
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'PermissionDeniedError';
  }
}

export class UnauthenticatedError extends Error {
  readonly code = 'unauthenticated';
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'UnauthenticatedError';
  }
}

export type ServiceName = 'Ipam' | 'Resources' | 'StaticIps' | 'History' | 'Explain' | 'Migration';

interface NodeContext {
  /** "node node-a", for messages. */
  readonly who: string;
  readonly node: string;
  readonly owners: AllocationOwners;
}

type NodeRule = (request: never, ctx: NodeContext) => Promise<void>;

const ownerText = (node: string | undefined) => (node ? `node ${node}` : 'no node');

function deny(ctx: NodeContext, what: string): never {
  throw new PermissionDeniedError(`${ctx.who} may not ${what}`);
}

/** Assignments name the caller as hostname and as the `node` attribute (what release and GC go by). */
function checkAssignment(req: { hostname: string; attributes: Record<string, string>; handleId: string }, ctx: NodeContext, what: string): Promise<void> {
  if (req.hostname !== ctx.node) deny(ctx, `${what} for node ${req.hostname || '(none)'}`);
  const attr = req.attributes?.['node'];
  if (attr !== ctx.node) deny(ctx, attr ? `${what} with the attribute node=${attr}` : `${what} without the attribute node=${ctx.node}`);
  return checkHandle(req.handleId, ctx, `${what} under handle ${req.handleId}`);
}

/** Every address of the handle belongs to the caller (a new or empty handle passes). */
async function checkHandle(handleId: string, ctx: NodeContext, what: string): Promise<void> {
  const owners = await ctx.owners.nodesOfHandle(handleId);
  const foreign = owners.find((n) => n !== ctx.node);
  if (owners.some((n) => n !== ctx.node)) deny(ctx, `${what} of ${ownerText(foreign)}`);
}

const IPAM_NODE_RULES: Readonly<Record<string, NodeRule>> = {
  autoAssign: (req: AutoAssignRequest, ctx) => checkAssignment(req, ctx, 'assign addresses'),
  assignIp: (req: AssignIPRequest, ctx) => checkAssignment(req, ctx, `assign ${req.ip}`),
  releaseByHandle: async (req: ReleaseByHandleRequest, ctx) => {
    const owners = await ctx.owners.nodesOfHandle(req.handleId);
    // Nothing proves whose an empty handle is; answering here also means the release
    // cannot meet addresses another node assigned since this read.
    if (owners.length === 0) throw new IpamError('not-found', Messages.handleNotFound(req.handleId));
    const foreign = owners.find((n) => n !== ctx.node);
    if (owners.some((n) => n !== ctx.node)) deny(ctx, `release handle ${req.handleId} of ${ownerText(foreign)}`);
  },
  // A sticky handle is a pod identity's, not a node's: its next pod may start on any node.
  ipsByHandle: async (req: IpsByHandleRequest, ctx) => (parseStickyHandle(req.handleId) ? undefined : checkHandle(req.handleId, ctx, `read handle ${req.handleId}`)),
  releaseIPs: async (req: ReleaseIPsRequest, ctx) => {
    for (const o of req.options ?? []) {
      const owner = await ctx.owners.ownerOfAddress(o.address);
      if (owner.allocated && owner.node !== ctx.node) deny(ctx, `release ${o.address} of ${ownerText(owner.node)}`);
      // A free address may be given to another node before the release runs; with the
      // handle named, the engine refuses it then (the handle no longer matches).
      if (!owner.allocated && !o.handleId) deny(ctx, `release ${o.address} without naming its handle (it is not allocated)`);
    }
  },
  getAssignmentAttributes: async (req: GetAssignmentAttributesRequest, ctx) => {
    const owner = await ctx.owners.ownerOfAddress(req.ip);
    if (owner.allocated && owner.node !== ctx.node) deny(ctx, `read the attributes of ${req.ip} of ${ownerText(owner.node)}`);
  },
  listAllocations: async (req: ListAllocationsRequest, ctx) => {
    if (req.node !== ctx.node) deny(ctx, req.node ? `list the allocations of node ${req.node}` : 'list the allocations of every node');
  },
  getIpamConfig: async () => undefined,
  // Route information is cluster-wide (as in Calico): every node routes to every other.
  watchRoutes: async () => undefined,
};

function resourceOf(json: string): { kind: string; name: string } {
  let r: { kind?: unknown; metadata?: { name?: unknown } };
  try {
    r = JSON.parse(json) as typeof r;
  } catch (err) {
    throw new IpamError('invalid-argument', `resource_json is not valid JSON: ${(err as Error).message}`);
  }
  return { kind: typeof r?.kind === 'string' ? r.kind : '(no kind)', name: typeof r?.metadata?.name === 'string' ? r.metadata.name : '(no name)' };
}

const isOwnNode = (kind: string, name: string, ctx: NodeContext) => kind === 'Node' && name === ctx.node;

const RESOURCES_NODE_RULES: Readonly<Record<string, NodeRule>> = {
  get: async (req: GetResourceRequest, ctx) => {
    if (req.kind !== 'IPPool' && !isOwnNode(req.kind, req.name, ctx)) deny(ctx, `get ${req.kind}(${req.name})`);
  },
  list: async (req: ListResourcesRequest, ctx) => {
    if (req.kind !== 'IPPool') deny(ctx, `list ${req.kind}`);
  },
  apply: async (req: ApplyRequest, ctx) => {
    const r = resourceOf(req.resourceJson);
    if (!isOwnNode(r.kind, r.name, ctx)) deny(ctx, `apply ${r.kind}(${r.name})`);
  },
  create: async (req: ApplyRequest, ctx) => {
    const r = resourceOf(req.resourceJson);
    deny(ctx, `create ${r.kind}(${r.name})`);
  },
  delete: async (req: DeleteResourceRequest, ctx) => deny(ctx, `delete ${req.kind}(${req.name})`),
};

/**
 * A node takes over a requested address only for itself, and only from a holder it could
 * have a claim on: its own sandbox of the same pod (a pod never changes node, so the holder
 * is on this node), or a Kubernetes pod's allocation (namespace and pod recorded) whose pod
 * the agent found gone. Tunnel addresses, atollctl's and other non-pod holders are never
 * handed off.
 */
const STATIC_NODE_RULES: Readonly<Record<string, NodeRule>> = {
  // Reading who holds an address a pod asks for is how the agent decides; it reveals the
  // holder's handle and pod, which a static request needs to name in its refusal.
  getHolder: async (_req: GetHolderRequest) => undefined,
  handOff: async (req: HandOffRequest, ctx) => {
    await checkAssignment(req, ctx, `take over ${req.ip}`);
    const owner = await ctx.owners.ownerOfAddress(req.ip);
    if (!owner.allocated) return; // the engine answers not-found
    if (req.reason === HandOffReason.HAND_OFF_REASON_SAME_POD) {
      if (owner.node !== ctx.node) deny(ctx, `take over ${req.ip} of ${ownerText(owner.node)} as the same pod (a pod does not change node)`);
      return;
    }
    if (!owner.attributes?.['namespace'] || !owner.attributes['pod']) deny(ctx, `take over ${req.ip}: its holder is not a Kubernetes pod`);
  },
};

export const NODE_RULES: Readonly<Record<ServiceName, Readonly<Record<string, NodeRule>>>> = {
  Ipam: IPAM_NODE_RULES,
  Resources: RESOURCES_NODE_RULES,
  StaticIps: STATIC_NODE_RULES,
  // who held which address is for admins: a node has no rule here
  History: {},
  Explain: {},
  // Raw datastore records: admins only, whatever the node.
  Migration: {},
};

/**
 * Resolves when `identity` may make this call; otherwise throws a coded error
 * (permission-denied, unauthenticated, or not-found for a node's empty handle).
 * `rpc` is the method's wire name, for messages ("ClaimAffinity").
 */
export async function authorize(identity: Identity, call: { service: ServiceName; method: string; rpc: string; request: unknown }, owners: AllocationOwners): Promise<void> {
  switch (identity.kind) {
    case 'admin':
      return;
    case 'anonymous':
      throw new UnauthenticatedError(`a client certificate is required to call ${call.service}/${call.rpc}`);
    case 'unrecognised':
      throw new PermissionDeniedError(
        `${describeIdentity(identity)} is neither a node (CN=system:node:<name>, or O=atoll:nodes with CN=<name>) nor an admin (O=atoll:admins) and may not call ${call.service}/${call.rpc}`,
      );
    case 'node': {
      const ctx: NodeContext = { who: describeIdentity(identity), node: identity.node, owners };
      const rule = NODE_RULES[call.service][call.method];
      if (!rule) deny(ctx, `call ${call.service}/${call.rpc}`);
      await rule(call.request as never, ctx);
    }
  }
}
