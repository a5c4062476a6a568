import type { Readable } from 'node:stream';
import { AgentProtocolError, AgentUnreachableError, askAgent, type AgentAnswer } from './agent-client';
import { readCniEnv, readCommand, type CniCommand, type EnvSource } from './env';
import { CniError, CniErrorCode, formatCniError } from './errors';
import { parseNetworkConfig, readStdin, replyVersionOf } from './stdin';
import { isVersionText, LATEST_VERSION, SUPPORTED_VERSIONS } from './versions';

// atoll-ipam's whole job: a dispatch table over the CNI commands. VERSION is answered
// here; every other command is checked (environment and stdin) and relayed to the node
// agent as one request. Nothing reaches the agent unless the checks pass, and nothing but
// the result or the error JSON reaches stdout.

export interface PluginInput {
  readonly env: EnvSource;
  readonly stdin: Readable;
  /** A terminal on stdin: VERSION then does not wait for input nobody will type. */
  readonly stdinIsTTY?: boolean;
}

export interface PluginOutcome {
  readonly exitCode: 0 | 1;
  /** Exactly what goes to stdout: a result, an error JSON, or nothing. */
  readonly stdout: string;
}

/** What a command handler learned so far; the error path uses it to pick a reply version. */
interface CommandContext {
  readonly input: PluginInput;
  stdinText?: string;
}

type CommandHandler = (ctx: CommandContext) => Promise<string>;

/** VERSION input is optional and may never end (stdin left open): wait this long at most. */
const VERSION_STDIN_WAIT_MS = 1000;

async function reportVersion(ctx: CommandContext): Promise<string> {
  let requested = '';
  if (!ctx.input.stdinIsTTY) {
    let timer: NodeJS.Timeout | undefined;
    const giveUp = new Promise<string>((resolve) => {
      timer = setTimeout(() => {
        ctx.input.stdin.destroy();
        resolve('');
      }, VERSION_STDIN_WAIT_MS);
    });
    const text = await Promise.race([readStdin(ctx.input.stdin).catch(() => ''), giveUp]);
    clearTimeout(timer);
    try {
      const v = (JSON.parse(text) as { cniVersion?: unknown } | null)?.cniVersion;
      if (typeof v === 'string' && isVersionText(v)) requested = v;
    } catch {
      // No or unreadable input is normal for VERSION: answer with the latest version.
    }
  }
  // The spec: answer in the version the runtime asked about, and list what we support.
  return JSON.stringify({ cniVersion: requested || LATEST_VERSION, supportedVersions: SUPPORTED_VERSIONS });
}

interface RelayOptions {
  /** ADD prints the agent's result; the others print nothing on success. */
  readonly printsResult: boolean;
  /** The code for "the agent cannot be asked" (STATUS has its own, 50). */
  readonly unreachableCode: number;
}

function unreachableError(err: AgentUnreachableError, code: number): CniError {
  const msg =
    code === CniErrorCode.pluginNotAvailable
      ? `atoll-node-agent is not available at ${err.socketPath}`
      : `try again later: atoll-node-agent is not answering at ${err.socketPath}`;
  return new CniError(
    code,
    msg,
    `${err.reason}. Check that atoll-node-agent is running on this node and that ipam.agent_socket names its socket.`,
  );
}

function relayToAgent(options: RelayOptions): CommandHandler {
  return async (ctx) => {
    // stdin first (unlike skel), so that even an environment error is answered in the
    // cniVersion the runtime asked for.
    ctx.stdinText = await readStdin(ctx.input.stdin);
    const env = readCniEnv(ctx.input.env);
    const config = parseNetworkConfig(ctx.stdinText, env.command);
    let answer: AgentAnswer;
    try {
      answer = await askAgent(
        config.agentSocket,
        { command: env.command, containerId: env.containerId, ifname: env.ifname, netns: env.netns, args: env.args, networkConfig: config.text },
        config.agentTimeoutMs,
      );
    } catch (err) {
      if (err instanceof AgentUnreachableError) throw unreachableError(err, options.unreachableCode);
      if (err instanceof AgentProtocolError) {
        throw new CniError(CniErrorCode.internal, `atoll-node-agent gave an answer atoll-ipam cannot read: ${err.message}`, 'the plugin and the node agent are probably different Atoll versions; reinstall the plugin from the running agent');
      }
      throw err;
    }
    if (answer.kind === 'error') throw new CniError(answer.code, answer.msg || `atoll-node-agent refused ${env.command}`, answer.details);
    if (!options.printsResult) return '';
    // Relayed verbatim, but only if it is a JSON object: stdout must never carry junk.
    if (!isJsonObjectText(answer.result)) {
      throw new CniError(CniErrorCode.internal, `atoll-node-agent answered ${env.command} without a result object`, `got ${JSON.stringify(answer.result.slice(0, 200))}`);
    }
    return answer.result;
  };
}

function isJsonObjectText(text: string): boolean {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}

const relayOnly = { printsResult: false, unreachableCode: CniErrorCode.tryAgainLater } as const;

/** One handler per command, like host-local's main over skel. */
export const COMMAND_HANDLERS: Readonly<Record<CniCommand, CommandHandler>> = {
  ADD: relayToAgent({ printsResult: true, unreachableCode: CniErrorCode.tryAgainLater }),
  // DEL with the agent away is an error (11), never a silent success: the runtime retries,
  // and a DEL reported done would leak the address for good.
  DEL: relayToAgent(relayOnly),
  CHECK: relayToAgent(relayOnly),
  GC: relayToAgent(relayOnly),
  // STATUS (CNI 1.1) has its own code for "cannot serve ADD now".
  STATUS: relayToAgent({ printsResult: false, unreachableCode: CniErrorCode.pluginNotAvailable }),
  VERSION: reportVersion,
};

/** Runs one CNI invocation and returns what to print and the exit status; never throws. */
export async function runPlugin(input: PluginInput): Promise<PluginOutcome> {
  const ctx: CommandContext = { input };
  try {
    const command = readCommand(input.env);
    return { exitCode: 0, stdout: await COMMAND_HANDLERS[command](ctx) };
  } catch (err) {
    const cniError =
      err instanceof CniError ? err : new CniError(CniErrorCode.internal, `atoll-ipam failed: ${(err as Error)?.message ?? String(err)}`);
    return { exitCode: 1, stdout: formatCniError(cniError, replyVersionOf(ctx.stdinText, LATEST_VERSION)) };
  }
}
