import { CniError, CniErrorCode } from './errors';

// The CNI environment: which command, for which container and interface. Required
// variables per command follow skel (containernetworking/cni pkg/skel), and so do the
// messages, because runtimes and people grep for them. CNI_PATH is read but not required:
// atoll-ipam executes nothing, so refusing to run without it would only add a failure mode.

export const CNI_COMMANDS = ['ADD', 'DEL', 'CHECK', 'GC', 'STATUS', 'VERSION'] as const;
export type CniCommand = (typeof CNI_COMMANDS)[number];

export interface CniEnv {
  readonly command: CniCommand;
  /** '' when the command does not need it. */
  readonly containerId: string;
  readonly netns: string;
  readonly ifname: string;
  readonly args: string;
  readonly path: string;
}

export type EnvSource = Readonly<Record<string, string | undefined>>;

type Variable = 'CNI_CONTAINERID' | 'CNI_NETNS' | 'CNI_IFNAME';

const ATTACHMENT_COMMANDS: readonly CniCommand[] = ['ADD', 'DEL', 'CHECK'];

/** Which commands need which variable; the order is the order skel reports them in. */
const REQUIRED: readonly (readonly [Variable, readonly CniCommand[]])[] = [
  ['CNI_CONTAINERID', ATTACHMENT_COMMANDS],
  // DEL may come after the namespace is gone; the address must still be released.
  ['CNI_NETNS', ['ADD', 'CHECK']],
  ['CNI_IFNAME', ATTACHMENT_COMMANDS],
];

export function isCniCommand(v: string): v is CniCommand {
  return (CNI_COMMANDS as readonly string[]).includes(v);
}

function missing(names: readonly string[]): CniError {
  return new CniError(CniErrorCode.invalidEnvironment, `required env variables [${names.join(',')}] missing`);
}

/** CNI_COMMAND alone: checked first so that nothing else is read for an unknown command. */
export function readCommand(env: EnvSource): CniCommand {
  const command = env['CNI_COMMAND'] ?? '';
  if (command === '') throw missing(['CNI_COMMAND']);
  if (!isCniCommand(command)) {
    throw new CniError(
      CniErrorCode.invalidEnvironment,
      `unknown CNI_COMMAND: ${command}`,
      `atoll-ipam understands ${CNI_COMMANDS.join(', ')}`,
    );
  }
  return command;
}

// The spec's container ID grammar: alphanumeric first, then alphanumerics, _ . -
const CONTAINER_ID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const MAX_IFNAME_LENGTH = 15;
/** Runtimes use 64-character IDs; the bound keeps handles (and so blocks) within etcd's limits. */
export const MAX_CONTAINER_ID_LENGTH = 256;

function validateContainerId(id: string): void {
  if (id.length > MAX_CONTAINER_ID_LENGTH) {
    throw new CniError(CniErrorCode.invalidEnvironment, `containerID is longer than ${MAX_CONTAINER_ID_LENGTH} characters`, `${id.length} characters`);
  }
  if (!CONTAINER_ID.test(id)) throw new CniError(CniErrorCode.invalidEnvironment, 'invalid characters in containerID', id);
}

/** Linux interface-name rules, as the spec states them (and skel checks them). */
function validateIfname(name: string): void {
  if (Buffer.byteLength(name) > MAX_IFNAME_LENGTH) {
    throw new CniError(CniErrorCode.invalidEnvironment, 'interface name is too long', `interface name should be less than ${MAX_IFNAME_LENGTH + 1} characters`);
  }
  if (name === '.' || name === '..') throw new CniError(CniErrorCode.invalidEnvironment, 'interface name is . or ..');
  if (/[/:\s]/u.test(name)) {
    throw new CniError(CniErrorCode.invalidEnvironment, 'interface name contains / or : or whitespace characters', JSON.stringify(name));
  }
}

/** Reads and checks the whole CNI environment for `command`; throws code 4 on any problem. */
export function readCniEnv(env: EnvSource): CniEnv {
  const command = readCommand(env);
  const get = (name: string) => env[name] ?? '';
  const absent = REQUIRED.filter(([name, commands]) => commands.includes(command) && get(name) === '').map(([name]) => name);
  if (absent.length > 0) throw missing(absent);
  const containerId = get('CNI_CONTAINERID');
  const ifname = get('CNI_IFNAME');
  // Validate only what the command uses: a stray value on GC/STATUS is not our business.
  if (ATTACHMENT_COMMANDS.includes(command)) {
    validateContainerId(containerId);
    validateIfname(ifname);
  }
  return { command, containerId, netns: get('CNI_NETNS'), ifname, args: get('CNI_ARGS'), path: get('CNI_PATH') };
}
