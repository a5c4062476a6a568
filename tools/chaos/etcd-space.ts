import type { EtcdCluster } from '../etcd/launcher';

// Filling etcd up to its quota, and what an operator does about it, through etcd's v3 JSON
// gateway (the calls `etcdctl` makes): puts of ballast until etcd raises its NOSPACE
// alarm; then delete the ballast, compact to the current revision, defragment every
// member, and disarm the alarm (docs/troubleshooting.md).

/** The quota the members get when the run injects `etcd-nospace`: far above what the load writes in a run. */
export const CHAOS_ETCD_QUOTA_BYTES = 24 * 1024 * 1024;
const BALLAST_PREFIX = '/chaos-ballast/';
const BALLAST_VALUE = Buffer.alloc(1024 * 1024, 'x').toString('base64');
const b64 = (text: string) => Buffer.from(text).toString('base64');

interface GatewayAnswer {
  readonly error?: string;
  readonly message?: string;
  readonly header?: { readonly revision?: string };
  readonly alarms?: readonly { readonly memberID?: string; readonly alarm?: string }[];
}

async function call(url: string, path: string, body: unknown, timeoutMs = 30_000): Promise<GatewayAnswer> {
  const res = await fetch(`${url}${path}`, { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
  const answer = (await res.json().catch(() => ({}))) as GatewayAnswer;
  if (!res.ok) return { ...answer, error: answer.error ?? answer.message ?? `HTTP ${res.status}` };
  return answer;
}

const running = (cluster: EtcdCluster) => cluster.members.filter((m) => m.child !== undefined && m.child.exitCode === null && m.child.signalCode === null);

/** Writes 1 MiB ballast keys until etcd refuses one for lack of space; the refusal's text. */
export async function fillUntilNoSpace(cluster: EtcdCluster, maxBallastKeys = 256): Promise<string> {
  const url = running(cluster)[0]!.clientUrl;
  for (let i = 0; i < maxBallastKeys; i++) {
    const r = await call(url, '/v3/kv/put', { key: b64(`${BALLAST_PREFIX}${i}`), value: BALLAST_VALUE });
    if (r.error !== undefined) {
      if (/space/i.test(r.error)) return r.error;
      throw new Error(`filling etcd: a put failed for another reason: ${r.error}`);
    }
  }
  throw new Error(`etcd accepted ${maxBallastKeys} MiB of ballast without raising NOSPACE`);
}

/** Whether any member reports the NOSPACE alarm. */
export async function noSpaceAlarmRaised(cluster: EtcdCluster): Promise<boolean> {
  const r = await call(running(cluster)[0]!.clientUrl, '/v3/maintenance/alarm', { action: 'GET' });
  return (r.alarms ?? []).some((a) => a.alarm === 'NOSPACE');
}

/**
 * The operator's steps, in order: delete what filled etcd (deletes are allowed under the
 * alarm), compact to the current revision, defragment every member (this is what gives
 * the space back to the quota), disarm every NOSPACE alarm.
 */
export async function recoverSpace(cluster: EtcdCluster): Promise<void> {
  const url = running(cluster)[0]!.clientUrl;
  const deleted = await call(url, '/v3/kv/deleterange', { key: b64(BALLAST_PREFIX), range_end: b64(BALLAST_PREFIX.slice(0, -1) + String.fromCharCode(BALLAST_PREFIX.charCodeAt(BALLAST_PREFIX.length - 1) + 1)) });
  if (deleted.error !== undefined) throw new Error(`deleting the ballast: ${deleted.error}`);
  const revision = deleted.header?.revision;
  const compacted = await call(url, '/v3/kv/compaction', { revision, physical: true });
  if (compacted.error !== undefined && !/compacted/.test(compacted.error)) throw new Error(`compacting at ${revision}: ${compacted.error}`);
  for (const m of running(cluster)) {
    const d = await call(m.clientUrl, '/v3/maintenance/defragment', {}, 60_000);
    if (d.error !== undefined) throw new Error(`defragmenting ${m.name}: ${d.error}`);
  }
  const alarms = await call(url, '/v3/maintenance/alarm', { action: 'GET' });
  for (const a of alarms.alarms ?? []) {
    if (a.alarm !== 'NOSPACE') continue;
    const r = await call(url, '/v3/maintenance/alarm', { action: 'DEACTIVATE', memberID: a.memberID, alarm: 'NOSPACE' });
    if (r.error !== undefined) throw new Error(`disarming NOSPACE on member ${a.memberID}: ${r.error}`);
  }
  if (await noSpaceAlarmRaised(cluster)) throw new Error('the NOSPACE alarm is still raised after disarming it');
}
