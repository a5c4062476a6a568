import { formatIp, parseIp } from '@atoll/ipmath';
import { PoolRequestError, poolSettingsOfIpamConfig, type PoolSettings } from '@atoll/model';
import { CniCode, CniFailure } from './errors';

export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;
export type CniVersion = (typeof SUPPORTED_VERSIONS)[number];

/** What the agent reads of the network configuration (stdin of the plugin). */
export interface NetConf {
  readonly cniVersion: CniVersion;
  readonly name: string;
  readonly assignIpv4: boolean;
  readonly assignIpv6: boolean;
  readonly ipv4Pools: readonly string[];
  readonly ipv6Pools: readonly string[];
  /**
   * ipam.ipv4_gateway / ipv6_gateway: put in the result as each address's gateway, for main
   * plugins that need one (ptp puts it on the host side of each veth; 169.254.1.1 is the
   * usual choice, as Calico's own dataplane uses).
   */
  readonly gateways: { readonly 4?: string; readonly 6?: string };
  /**
   * Set when this is the configuration of Atoll's own main plugin ("type": "atoll"): the
   * agent then also wires the pod (apps/node-agent/src/dataplane) and answers with the
   * interfaces, /32 (/128) addresses and default routes.
   */
  readonly mainPlugin?: { readonly mtu: number };
  /** feature_control.ip_addrs_no_ipam */
  readonly ipAddrsNoIpam: boolean;
  /** CNI 1.1 GC: the attachments that must be kept. */
  readonly validAttachments?: readonly { containerID: string; ifname: string }[];
  /** CHECK: the result ADD returned. */
  readonly prevResult?: { ips?: { address?: string }[] };
  readonly raw: Record<string, unknown>;
}

function fail(message: string): never {
  throw new CniFailure(CniCode.badConfig, message);
}

function gateway(v: unknown, field: string, version: 4 | 6): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  let ip;
  try {
    ip = typeof v === 'string' ? parseIp(v) : undefined;
  } catch {
    ip = undefined;
  }
  if (!ip || ip.version !== version) fail(`ipam.${field} must be an IPv${version} address, got ${JSON.stringify(v)}`);
  return formatIp(ip);
}

/** assign_ipv4/6 and ipv4/6_pools, read as `atollctl ipam explain` reads them (@atoll/model cni/pool-request.ts). */
function poolSettings(ipam: Record<string, unknown>): PoolSettings {
  try {
    return poolSettingsOfIpamConfig(ipam);
  } catch (err) {
    if (err instanceof PoolRequestError) fail(err.message);
    throw err;
  }
}

/** The type of Atoll's main plugin in a network configuration. */
export const MAIN_PLUGIN_TYPE = 'atoll';
export const IPAM_PLUGIN_TYPE = 'atoll-ipam';
const DEFAULT_MTU = 1500;

function mainPlugin(o: Record<string, unknown>, ipam: Record<string, unknown>): NetConf['mainPlugin'] {
  if (o['type'] !== MAIN_PLUGIN_TYPE) return undefined;
  if (ipam['type'] !== IPAM_PLUGIN_TYPE) fail(`the ${MAIN_PLUGIN_TYPE} plugin works only with "ipam": {"type": "${IPAM_PLUGIN_TYPE}"}, got ${JSON.stringify(ipam['type'])}`);
  const mtu = o['mtu'] ?? DEFAULT_MTU;
  if (typeof mtu !== 'number' || !Number.isInteger(mtu) || mtu < 68 || mtu > 65535) fail(`mtu must be a whole number from 68 to 65535, got ${JSON.stringify(mtu)}`);
  return { mtu };
}

export function parseNetConf(text: string): NetConf {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new CniFailure(CniCode.badStdin, `failed to decode network configuration: ${(err as Error).message}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new CniFailure(CniCode.badStdin, 'failed to decode network configuration: not a JSON object');
  const o = raw as Record<string, unknown>;
  const version = o['cniVersion'];
  if (typeof version !== 'string' || !(SUPPORTED_VERSIONS as readonly string[]).includes(version)) {
    throw new CniFailure(CniCode.incompatibleVersion, `incompatible CNI versions: config is ${JSON.stringify(version)}, plugin supports ${SUPPORTED_VERSIONS.join(', ')}`);
  }
  if (typeof o['name'] !== 'string' || o['name'] === '') fail('missing network name');
  const ipam = o['ipam'];
  if (ipam === null || typeof ipam !== 'object' || Array.isArray(ipam)) fail('missing ipam section');
  const i = ipam as Record<string, unknown>;
  const fc = (i['feature_control'] ?? o['feature_control'] ?? {}) as Record<string, unknown>;
  const valid = (o['cni.dev/valid-attachments'] ?? (o['runtimeConfig'] as Record<string, unknown> | undefined)?.['cni.dev/valid-attachments']) as
    | { containerID: string; ifname: string }[]
    | undefined;
  if (valid !== undefined && !Array.isArray(valid)) fail('cni.dev/valid-attachments must be a list');
  (valid ?? []).forEach((a: unknown, i) => {
    const e = a as Record<string, unknown> | null;
    if (e === null || typeof e !== 'object' || typeof e['containerID'] !== 'string' || e['containerID'] === '' || typeof e['ifname'] !== 'string') {
      throw new CniFailure(CniCode.badStdin, `cni.dev/valid-attachments[${i}] must be an object with string containerID and ifname, got ${JSON.stringify(a)}`);
    }
  });
  const main = mainPlugin(o, i);
  return {
    cniVersion: version as CniVersion,
    name: o['name'] as string,
    ...poolSettings(i),
    gateways: {
      ...(i['ipv4_gateway'] !== undefined && { 4: gateway(i['ipv4_gateway'], 'ipv4_gateway', 4) }),
      ...(i['ipv6_gateway'] !== undefined && { 6: gateway(i['ipv6_gateway'], 'ipv6_gateway', 6) }),
    },
    ...(main && { mainPlugin: main }),
    ipAddrsNoIpam: fc['ip_addrs_no_ipam'] === true,
    ...(valid !== undefined && { validAttachments: valid }),
    ...(o['prevResult'] !== undefined && { prevResult: o['prevResult'] as NetConf['prevResult'] }),
    raw: o,
  };
}
