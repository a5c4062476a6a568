import type { Readable } from 'node:stream';
import type { CniCommand } from './env';
import { CniError, CniErrorCode } from './errors';
import { isSupportedVersion, requireCompatibleVersion, type CniVersion } from './versions';

// The network configuration on stdin: read with a size bound, then only the fields the
// plugin itself needs are checked. Everything else (pools, flags, prevResult) is the
// agent's to interpret. Rule for codes: a value of the wrong JSON type is a decoding
// failure (6), as Go's json.Unmarshal into a typed NetConf reports it; a missing or
// out-of-range value of the right type is an invalid configuration (7).

/** No real network configuration comes near this; a bigger stdin is a mistake or an attack. */
export const MAX_STDIN_BYTES = 1024 * 1024;
export const DEFAULT_AGENT_SOCKET = '/run/atoll/agent.sock';
export const DEFAULT_AGENT_TIMEOUT_SECONDS = 30;
/** Longer than any runtime waits for a plugin; a bigger value is a typo (ms for s). */
const MAX_AGENT_TIMEOUT_SECONDS = 600;
/** sun_path is 108 bytes on Linux, including the terminating NUL. */
const MAX_SOCKET_PATH_BYTES = 107;

export interface NetworkConfig {
  readonly cniVersion: CniVersion;
  readonly name: string;
  readonly ipamType: string;
  readonly agentSocket: string;
  readonly agentTimeoutMs: number;
  /** stdin exactly as given: the agent gets the bytes the runtime sent. */
  readonly text: string;
}

/** Reads all of `stream`, refusing more than `limit` bytes (code 6) without buffering it. */
export async function readStdin(stream: Readable, limit = MAX_STDIN_BYTES): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      size += buf.length;
      if (size > limit) {
        throw new CniError(
          CniErrorCode.decodingFailure,
          `failed to decode network configuration: stdin is larger than ${limit} bytes`,
          'stdin must hold one network configuration JSON object',
        );
      }
      chunks.push(buf);
    }
  } catch (err) {
    if (err instanceof CniError) throw err;
    throw new CniError(CniErrorCode.ioFailure, `error reading from stdin: ${(err as Error).message}`);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function decodeFailure(what: string): CniError {
  return new CniError(CniErrorCode.decodingFailure, `failed to decode network configuration: ${what}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A string field: undefined when absent or null (Go reads null as the zero value). */
function optionalString(o: Record<string, unknown>, key: string, label = key): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw decodeFailure(`"${label}" must be a string, got ${jsonType(v)}`);
  return v;
}

/** The network name grammar from the spec; skel refuses anything else with code 7. */
const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

function parseName(o: Record<string, unknown>): string {
  const name = optionalString(o, 'name');
  if (name === undefined || name === '') {
    throw new CniError(CniErrorCode.invalidNetworkConfig, 'missing network name', 'the network configuration needs a "name"');
  }
  if (!NETWORK_NAME.test(name)) throw new CniError(CniErrorCode.invalidNetworkConfig, 'invalid characters found in network name', name);
  return name;
}

function parseVersion(o: Record<string, unknown>, command: CniCommand): CniVersion {
  const version = optionalString(o, 'cniVersion');
  if (version === undefined || version === '') {
    // skel reads a missing cniVersion as 0.1.0, which no current plugin supports: code 1.
    throw new CniError(CniErrorCode.incompatibleVersion, 'incompatible CNI versions', 'the network configuration has no "cniVersion"; set it to 1.0.0 or another supported version');
  }
  return requireCompatibleVersion(version, command);
}

function parseAgentSocket(ipam: Record<string, unknown>): string {
  const socket = optionalString(ipam, 'agent_socket', 'ipam.agent_socket');
  if (socket === undefined) return DEFAULT_AGENT_SOCKET;
  if (!socket.startsWith('/')) {
    throw new CniError(CniErrorCode.invalidNetworkConfig, 'ipam.agent_socket must be an absolute path', `got ${JSON.stringify(socket)}; the default is ${DEFAULT_AGENT_SOCKET}`);
  }
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH_BYTES || socket.includes('\0')) {
    throw new CniError(CniErrorCode.invalidNetworkConfig, `ipam.agent_socket must be a unix socket path of at most ${MAX_SOCKET_PATH_BYTES} bytes`, socket);
  }
  return socket;
}

function parseAgentTimeoutMs(ipam: Record<string, unknown>): number {
  const v = ipam['agent_timeout_seconds'];
  if (v === undefined || v === null) return DEFAULT_AGENT_TIMEOUT_SECONDS * 1000;
  if (typeof v !== 'number') throw decodeFailure(`"ipam.agent_timeout_seconds" must be a number, got ${jsonType(v)}`);
  if (!(v > 0 && v <= MAX_AGENT_TIMEOUT_SECONDS)) {
    throw new CniError(
      CniErrorCode.invalidNetworkConfig,
      `ipam.agent_timeout_seconds must be more than 0 and at most ${MAX_AGENT_TIMEOUT_SECONDS}`,
      `got ${v}; the default is ${DEFAULT_AGENT_TIMEOUT_SECONDS}`,
    );
  }
  return Math.ceil(v * 1000);
}

/** GC releases everything not listed, so a GC without the list must never reach the agent. */
function requireValidAttachments(o: Record<string, unknown>): void {
  const runtimeConfig = isObject(o['runtimeConfig']) ? o['runtimeConfig'] : {};
  const list = o['cni.dev/valid-attachments'] ?? runtimeConfig['cni.dev/valid-attachments'];
  if (list === undefined || list === null) {
    throw new CniError(CniErrorCode.invalidNetworkConfig, 'GC needs "cni.dev/valid-attachments"', 'without the list of attachments to keep, GC would release every address of this network on this node');
  }
  if (!Array.isArray(list)) throw decodeFailure(`"cni.dev/valid-attachments" must be an array, got ${jsonType(list)}`);
  // A malformed entry keeps nothing, and GC would then release the attachment it meant.
  list.forEach((entry: unknown, i) => {
    if (!isObject(entry) || typeof entry['containerID'] !== 'string' || entry['containerID'] === '' || typeof entry['ifname'] !== 'string') {
      throw decodeFailure(`"cni.dev/valid-attachments"[${i}] must be an object with string containerID and ifname, got ${JSON.stringify(entry)}`);
    }
  });
}

/** Checks what the plugin relies on; throws CniError with the spec's code on the first problem. */
export function parseNetworkConfig(text: string, command: CniCommand): NetworkConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw decodeFailure((err as Error).message);
  }
  if (!isObject(raw)) throw decodeFailure(`expected a JSON object, got ${jsonType(raw)}`);
  // skel's order: the name first, then the version.
  const name = parseName(raw);
  const cniVersion = parseVersion(raw, command);
  const ipam = raw['ipam'];
  if (ipam === undefined || ipam === null) {
    throw new CniError(CniErrorCode.invalidNetworkConfig, 'missing "ipam" section', 'the network configuration needs "ipam": {"type": "atoll-ipam"}');
  }
  if (!isObject(ipam)) throw decodeFailure(`"ipam" must be an object, got ${jsonType(ipam)}`);
  const ipamType = optionalString(ipam, 'type', 'ipam.type');
  if (ipamType === undefined || ipamType === '') {
    throw new CniError(CniErrorCode.invalidNetworkConfig, 'missing "ipam.type"', 'set "ipam": {"type": "atoll-ipam"}');
  }
  if (command === 'GC') requireValidAttachments(raw);
  return { cniVersion, name, ipamType, agentSocket: parseAgentSocket(ipam), agentTimeoutMs: parseAgentTimeoutMs(ipam), text };
}

/**
 * The version to answer an error in, from stdin that may be anything: the config's own
 * cniVersion when it is a supported one, so the runtime can parse the error it asked for.
 */
export function replyVersionOf(text: string | undefined, fallback: string): string {
  if (text === undefined) return fallback;
  try {
    const v = (JSON.parse(text) as { cniVersion?: unknown } | null)?.cniVersion;
    return typeof v === 'string' && isSupportedVersion(v) ? v : fallback;
  } catch {
    return fallback;
  }
}
