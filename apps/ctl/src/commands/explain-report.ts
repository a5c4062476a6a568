import type { AssignmentExplanation, Holding } from '@atoll/api';
import { cidrContains, parseCidr, parseIp } from '@atoll/ipmath';
import { PoolAnnotations, SpecificAddressAnnotations, type PoolAnnotationEffect, type PoolSettings } from '@atoll/model';
import { renderTabTable } from '../format/tab-table';

// What `atollctl ipam explain` prints: the decision as text for people, or as JSON.

export interface Explained {
  readonly pod: string;
  readonly node: string;
  readonly cniConf: string | null;
  readonly annotations: { readonly namespace: Record<string, string>; readonly pod: Record<string, string> };
  readonly applied: readonly PoolAnnotationEffect[];
  readonly specific?: { readonly annotation: string; readonly value: string };
  readonly request?: PoolSettings;
  readonly explanation?: AssignmentExplanation;
  readonly current: readonly Holding[];
}

export const relevant = (annotations: Record<string, string> | undefined): Record<string, string> =>
  Object.fromEntries(
    Object.entries(annotations ?? {}).filter(([k]) => (Object.values(PoolAnnotations) as string[]).includes(k) || (Object.values(SpecificAddressAnnotations) as string[]).includes(k)),
  );

function ruleOf(h: Holding, explanation: AssignmentExplanation | undefined): string {
  const kind = h.assigned?.kind;
  if (kind === 'static') return `the ${SpecificAddressAnnotations.ipAddrs} annotation (a specific address)`;
  if (kind === 'handoff') return 'a hand-off from its previous holder';
  const pools = explanation?.families.flatMap((f) => f.pools) ?? [];
  const pool = pools.find((p) => cidrContains(parseCidr(p.cidr), parseIp(h.ip)));
  if (kind === 'auto') return `automatic assignment${pool ? ` from pool ${pool.name}` : ''}`;
  return kind ? `${kind}` : 'assigned before the history kept';
}

export function renderText(e: Explained): string {
  const lines: string[] = [`Pod ${e.pod} on node ${e.node}`, '', 'Annotations read:'];
  const show = (who: string, a: Record<string, string>) => {
    const entries = Object.entries(a);
    if (entries.length === 0) lines.push(`  ${who}: none of Atoll's`);
    for (const [k, v] of entries) lines.push(`  ${who}: ${k}=${v}`);
  };
  show('namespace', e.annotations.namespace);
  show('pod', e.annotations.pod);
  lines.push(`CNI configuration: ${e.cniConf ?? "none given (Calico's defaults: IPv4 only, any qualifying pool)"}`);
  lines.push('Precedence: pod annotations over namespace annotations over the CNI configuration');
  for (const a of e.applied) lines.push(`  applied: ${a.source} ${a.annotation}=${a.value}`);
  if (e.specific) {
    lines.push('', `The pod asks for specific addresses (${e.specific.annotation}=${e.specific.value}): no pool is chosen; each address must be free and in an enabled pool.`);
  } else if (e.request && e.explanation) {
    const r = e.request;
    const families = [r.assignIpv4 && `IPv4 from ${r.ipv4Pools.length > 0 ? `pools ${r.ipv4Pools.join(', ')}` : 'any qualifying pool'}`, r.assignIpv6 && `IPv6 from ${r.ipv6Pools.length > 0 ? `pools ${r.ipv6Pools.join(', ')}` : 'any qualifying pool'}`].filter(Boolean);
    lines.push(`Request: ${families.join('; ')}`);
    for (const f of e.explanation.families) {
      lines.push('', `IPv${f.version} pools:`);
      const table = renderTabTable(
        ['POOL', 'CIDR', 'VERDICT', 'REASON'],
        f.pools.map((p) => [p.name, p.cidr, p.verdict, p.reason ? `${p.reason}: ${p.detail}` : '']),
      );
      lines.push(...table.trimEnd().split('\n').map((l) => `  ${l.trimEnd()}`));
      for (const a of f.addresses) lines.push(`Address: ${a.ip} from pool ${a.pool}, block ${a.block} (${BLOCK_CHOICES[a.blockChoice] ?? a.blockChoice})`);
    }
    if (e.explanation.errorMessage) lines.push('', `The ADD would fail: failed to assign an IP address: ${e.explanation.errorMessage}`);
  }
  if (e.current.length > 0) {
    lines.push('', 'Addresses the pod holds now (from the allocation history):');
    for (const h of e.current) lines.push(`  ${h.ip}: ${ruleOf(h, e.explanation)}, assigned ${h.assigned?.at ?? 'before the history kept'}`);
  }
  return `${lines.join('\n')}\n`;
}

const BLOCK_CHOICES: Readonly<Record<string, string>> = {
  affine: 'an existing block of this node',
  new: 'a new block this node would claim',
  borrowed: "borrowed from another node's block",
};

export function jsonOf(e: Explained): unknown {
  return {
    pod: e.pod,
    node: e.node,
    cniConf: e.cniConf,
    annotations: e.annotations,
    precedence: ['pod', 'namespace', 'cni-conf'],
    applied: e.applied,
    specificAddresses: e.specific ?? null,
    request: e.request ?? null,
    families: (e.explanation?.families ?? []).map((f) => ({ version: f.version, pools: f.pools, addresses: f.addresses })),
    error: e.explanation?.errorMessage ? { code: e.explanation.errorCode, message: `failed to assign an IP address: ${e.explanation.errorMessage}` } : null,
    current: e.current.map((h) => ({ ip: h.ip, kind: h.assigned?.kind ?? null, assignedAt: h.assigned?.at ?? null, rule: ruleOf(h, e.explanation) })),
  };
}

