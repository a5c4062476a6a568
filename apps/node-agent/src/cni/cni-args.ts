import { CniCode, CniFailure } from './errors';

/** CNI_ARGS as the runtime passes it: `K=V;K=V`. Keys Atoll reads are named here. */
export interface CniArgs {
  readonly podNamespace?: string;
  readonly podName?: string;
  /** `K8S_POD_UID` (containerd sends it): tells a new sandbox of the same pod from a new pod of the same name. */
  readonly podUid?: string;
  /** `IP=` — one or more comma-separated specific addresses. */
  readonly ips: readonly string[];
  readonly all: Readonly<Record<string, string>>;
}

const KNOWN = new Set(['K8S_POD_NAMESPACE', 'K8S_POD_NAME', 'K8S_POD_INFRA_CONTAINER_ID', 'K8S_POD_UID', 'IP', 'IgnoreUnknown']);

export function parseCniArgs(text: string): CniArgs {
  const all: Record<string, string> = {};
  if (text.trim() !== '') {
    for (const pair of text.split(';')) {
      if (pair === '') continue;
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new CniFailure(CniCode.badEnv, `CNI_ARGS: invalid argument ${JSON.stringify(pair)}: expected KEY=VALUE`);
      all[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  // Like skel: unknown keys are an error unless IgnoreUnknown is set.
  const ignoreUnknown = /^(1|true)$/i.test(all['IgnoreUnknown'] ?? '');
  const unknown = Object.keys(all).filter((k) => !KNOWN.has(k));
  if (unknown.length > 0 && !ignoreUnknown) {
    throw new CniFailure(CniCode.badEnv, `CNI_ARGS: unknown argument ${unknown.join(', ')} (set IgnoreUnknown=1 to ignore)`);
  }
  const ips = (all['IP'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return {
    ...(all['K8S_POD_NAMESPACE'] && { podNamespace: all['K8S_POD_NAMESPACE'] }),
    ...(all['K8S_POD_NAME'] && { podName: all['K8S_POD_NAME'] }),
    ...(all['K8S_POD_UID'] && { podUid: all['K8S_POD_UID'] }),
    ips,
    all,
  };
}
