import { CniError, CniErrorCode } from './errors';

// The CNI spec versions atoll-ipam speaks. Result shaping per version is the agent's job;
// the plugin only refuses what neither side can answer before anything is sent.

export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;
export type CniVersion = (typeof SUPPORTED_VERSIONS)[number];
export const LATEST_VERSION: CniVersion = '1.1.0';

const VERSION_TEXT = /^(\d+)\.(\d+)\.(\d+)$/;

export function isVersionText(v: string): boolean {
  return VERSION_TEXT.test(v);
}

export function isSupportedVersion(v: string): v is CniVersion {
  return (SUPPORTED_VERSIONS as readonly string[]).includes(v);
}

/** Orders two "x.y.z" versions numerically (so "0.10.0" > "0.4.0"). */
export function compareVersions(a: string, b: string): number {
  const pa = VERSION_TEXT.exec(a);
  const pb = VERSION_TEXT.exec(b);
  if (!pa || !pb) throw new Error(`not a CNI version: ${!pa ? a : b}`);
  for (let i = 1; i <= 3; i++) {
    const d = Number(pa[i]) - Number(pb[i]);
    if (d !== 0) return d;
  }
  return 0;
}

/** Commands that appeared after 0.3.0: CHECK in 0.4.0, GC and STATUS in 1.1.0. */
const INTRODUCED_IN: Readonly<Record<string, CniVersion>> = { CHECK: '0.4.0', GC: '1.1.0', STATUS: '1.1.0' };

const supportedList = SUPPORTED_VERSIONS.join(', ');

/** Throws code 1 unless `version` is one we speak and it knows `command`. */
export function requireCompatibleVersion(version: string, command: string): CniVersion {
  if (!isSupportedVersion(version)) {
    throw new CniError(
      CniErrorCode.incompatibleVersion,
      'incompatible CNI versions',
      `config is ${JSON.stringify(version)}, atoll-ipam supports ${supportedList}; set "cniVersion" to one of them`,
    );
  }
  const floor = INTRODUCED_IN[command];
  if (floor && compareVersions(version, floor) < 0) {
    // skel's wording, so the message matches what every Go plugin prints.
    throw new CniError(
      CniErrorCode.incompatibleVersion,
      `config version does not allow ${command}`,
      `${command} needs cniVersion ${floor} or later; the config says ${version}`,
    );
  }
  return version;
}
