import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

// A stand-in for atoll-node-agent's unix socket, for tests: it records every connection
// and request and answers with whatever the test chose. Tests use `connections` to prove
// that a refused invocation never reached the agent.

export interface RecordedRequest {
  readonly command: string;
  readonly containerId: string;
  readonly ifname: string;
  readonly netns: string;
  readonly args: string;
  readonly networkConfig: string;
}

/** What the fake does with one request. */
export type FakeAnswer =
  | { readonly line: string } // written as is, then a newline
  | { readonly hang: true } // never answers (tests the plugin's deadline)
  | { readonly hangUp: true }; // closes without answering

export const answerResult = (result: unknown): FakeAnswer => ({
  line: JSON.stringify({ result: typeof result === 'string' ? result : JSON.stringify(result) }),
});
export const answerEmpty = (): FakeAnswer => ({ line: '{}' });
export const answerError = (code: number, msg: string, details = ''): FakeAnswer => ({
  line: JSON.stringify({ error: { code, msg, ...(details && { details }) } }),
});

export interface FakeAgent {
  readonly socketPath: string;
  /** Connections accepted so far (including ones that sent nothing). */
  readonly connections: number;
  readonly requests: readonly RecordedRequest[];
  /** Changes the answer for later requests. */
  answerWith(answer: FakeAnswer | ((req: RecordedRequest) => FakeAnswer)): void;
  close(): Promise<void>;
}

export async function startFakeAgent(answer: FakeAnswer | ((req: RecordedRequest) => FakeAnswer) = answerEmpty()): Promise<FakeAgent> {
  // Short path: sun_path holds 107 bytes.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atoll-agent-'));
  const socketPath = path.join(dir, 'agent.sock');
  let connections = 0;
  const requests: RecordedRequest[] = [];
  const open = new Set<net.Socket>();
  let choose = typeof answer === 'function' ? answer : () => answer;

  const server = net.createServer((socket) => {
    connections++;
    open.add(socket);
    socket.on('close', () => open.delete(socket));
    socket.on('error', () => undefined);
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk.toString('utf8');
      const nl = buffered.indexOf('\n');
      if (nl === -1) return;
      const req = JSON.parse(buffered.slice(0, nl)) as RecordedRequest;
      requests.push(req);
      const a = choose(req);
      if ('line' in a) socket.end(`${a.line}\n`);
      else if ('hangUp' in a) socket.destroy();
      // hang: keep the socket open and silent until the client gives up.
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, resolve);
  });
  return {
    socketPath,
    get connections() {
      return connections;
    },
    requests,
    answerWith(next) {
      choose = typeof next === 'function' ? next : () => next;
    },
    async close() {
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
