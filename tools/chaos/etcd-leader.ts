import type { EtcdCluster, EtcdMember } from '../etcd/launcher';

// Which etcd member leads, asked the way an operator would: the v3 JSON gateway's
// maintenance status (`POST /v3/maintenance/status`, etcd ≥ 3.4), whose answer names the
// member that answered and the leader it follows. `/metrics` (`etcd_server_is_leader 1`)
// is the fallback when the gateway does not answer.

interface StatusAnswer {
  readonly header?: { readonly member_id?: string };
  readonly leader?: string;
}

async function fetchText(url: string, init: RequestInit, timeoutMs: number): Promise<string | undefined> {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    return res.ok ? await res.text() : undefined;
  } catch {
    return undefined;
  }
}

/** True when `member` says it is the leader; undefined when it does not answer. */
export async function isEtcdLeader(member: EtcdMember, timeoutMs = 500): Promise<boolean | undefined> {
  const status = await fetchText(`${member.clientUrl}/v3/maintenance/status`, { method: 'POST', body: '{}' }, timeoutMs);
  if (status !== undefined) {
    try {
      const s = JSON.parse(status) as StatusAnswer;
      if (s.header?.member_id && s.leader) return s.header.member_id === s.leader;
    } catch {
      // fall through to /metrics
    }
  }
  const metrics = await fetchText(`${member.clientUrl}/metrics`, {}, timeoutMs);
  const line = metrics?.split('\n').find((l) => l.startsWith('etcd_server_is_leader '));
  return line === undefined ? undefined : line.trim().endsWith(' 1');
}

/** The member that leads now; waits (up to `timeoutMs`) while an election is under way. */
export async function findEtcdLeader(cluster: EtcdCluster, timeoutMs = 10_000): Promise<EtcdMember> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const running = cluster.members.filter((m) => m.child !== undefined && m.child.exitCode === null && m.child.signalCode === null);
    const answers = await Promise.all(running.map((m) => isEtcdLeader(m)));
    const leader = running.find((_, i) => answers[i] === true);
    if (leader) return leader;
    if (Date.now() > deadline) throw new Error(`no etcd member reports itself leader after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
