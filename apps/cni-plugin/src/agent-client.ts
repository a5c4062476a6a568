import { connect } from 'node:net';

// One request to the node agent over its unix socket: one JSON line out, one JSON line
// back (proto/atoll/agent/v1/agent.proto, proto3 JSON names). Plain node:net and JSON, no
// protobuf or gRPC runtime: this is what keeps an exec of the plugin near bare Node's
// start-up cost. Transport only — what the answer means is the caller's business.

export interface AgentRequest {
  readonly command: string;
  readonly containerId: string;
  readonly ifname: string;
  readonly netns: string;
  readonly args: string;
  /** The whole stdin text, unchanged. */
  readonly networkConfig: string;
}

export type AgentAnswer =
  | { readonly kind: 'result'; readonly result: string }
  | { readonly kind: 'error'; readonly code: number; readonly msg: string; readonly details: string };

/** The agent could not be asked (no socket, refused, silent, hung up): worth retrying later. */
export class AgentUnreachableError extends Error {
  constructor(
    readonly socketPath: string,
    readonly reason: string,
  ) {
    super(`atoll-node-agent at ${socketPath}: ${reason}`);
    this.name = 'AgentUnreachableError';
  }
}

/** The agent answered something that is not the contract: a version skew or a bug. */
export class AgentProtocolError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'AgentProtocolError';
  }
}

/** An answer line longer than this is not a CNI result. */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

const CONNECT_FAILURES: Readonly<Record<string, string>> = {
  ENOENT: 'the socket does not exist',
  ECONNREFUSED: 'connection refused (nothing is listening on the socket)',
  EACCES: 'permission denied (the socket is root-only; the plugin must run as root)',
  ENOTSOCK: 'the path is not a socket',
  ENOTDIR: 'a parent of the socket path is not a directory',
};

function describe(err: NodeJS.ErrnoException): string {
  const known = err.code ? CONNECT_FAILURES[err.code] : undefined;
  return known ? `${known} (${err.code})` : err.message;
}

/** Decodes the agent's answer line; throws AgentProtocolError for anything off-contract. */
export function parseAgentAnswer(line: string): AgentAnswer {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (err) {
    throw new AgentProtocolError(`answer is not JSON: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new AgentProtocolError('answer is not a JSON object');
  const { result, error } = raw as { result?: unknown; error?: unknown };
  if (error !== undefined && error !== null) {
    const e = error as { code?: unknown; msg?: unknown; details?: unknown };
    if (typeof e !== 'object' || typeof e.code !== 'number' || !Number.isInteger(e.code) || e.code <= 0) {
      throw new AgentProtocolError('answer has an "error" without a positive integer "code"');
    }
    return {
      kind: 'error',
      code: e.code,
      msg: typeof e.msg === 'string' ? e.msg : '',
      details: typeof e.details === 'string' ? e.details : '',
    };
  }
  if (result !== undefined && result !== null && typeof result !== 'string') throw new AgentProtocolError('answer "result" is not a string');
  return { kind: 'result', result: (result as string | undefined) ?? '' };
}

/**
 * Sends `request` and resolves the agent's answer. Everything (connect, write, wait) shares
 * one deadline of `timeoutMs`; the socket is always destroyed before this settles, so the
 * process can exit as soon as the answer is printed.
 */
export function askAgent(socketPath: string, request: AgentRequest, timeoutMs: number): Promise<AgentAnswer> {
  return new Promise<AgentAnswer>((resolve, reject) => {
    const socket = connect({ path: socketPath });
    let settled = false;
    let connected = false;
    const chunks: Buffer[] = [];
    let size = 0;

    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      outcome();
    };
    const unreachable = (reason: string) => finish(() => reject(new AgentUnreachableError(socketPath, reason)));
    const answer = (line: string) => {
      try {
        const parsed = parseAgentAnswer(line);
        finish(() => resolve(parsed));
      } catch (err) {
        finish(() => reject(err));
      }
    };

    const timer = setTimeout(
      () => unreachable(connected ? `no answer within ${timeoutMs / 1000} s` : `could not connect within ${timeoutMs / 1000} s`),
      timeoutMs,
    );

    socket.once('connect', () => {
      connected = true;
      socket.write(`${JSON.stringify(request)}\n`);
    });
    socket.on('data', (chunk: Buffer) => {
      const newline = chunk.indexOf(0x0a);
      chunks.push(newline === -1 ? chunk : chunk.subarray(0, newline));
      size += chunk.length;
      if (newline !== -1) answer(Buffer.concat(chunks).toString('utf8'));
      else if (size > MAX_ANSWER_BYTES) finish(() => reject(new AgentProtocolError(`answer is longer than ${MAX_ANSWER_BYTES} bytes`)));
    });
    socket.once('end', () => {
      // A last line without its newline still counts; no bytes at all means the agent hung up.
      if (size > 0) answer(Buffer.concat(chunks).toString('utf8'));
      else unreachable(connected ? 'the agent closed the connection without answering' : 'the connection was closed');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      // A reset mid-answer is the agent going away (restart, crash), not a bad answer.
      unreachable(connected ? `connection failed: ${describe(err)}` : describe(err));
    });
  });
}
