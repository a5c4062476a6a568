import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';

// The jest side of fixtures/client-node-driver.mjs: sends commands, collects replies and
// informer events, and stops the child by its own handle.

const DRIVER = path.join(__dirname, '..', 'fixtures', 'client-node-driver.mjs');

export interface DriverReply {
  id: number;
  ok: boolean;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  result?: any;
  code?: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body?: any;
  message?: string;
}

export interface DriverEvent {
  event: string;
  name?: string;
  namespace?: string;
  resourceVersion?: string;
  nodeName?: string;
  labels?: Record<string, string>;
  count?: number;
  message?: string;
}

export interface ClientNodeDriver {
  call(op: string, args?: object): Promise<DriverReply>;
  readonly events: DriverEvent[];
  /** Resolves with the first event (already seen or future) matching `pred` after index `from`. */
  waitForEvent(pred: (e: DriverEvent) => boolean, timeoutMs?: number): Promise<DriverEvent>;
  stderr(): string;
  stop(): Promise<void>;
}

export async function startClientNodeDriver(kubeconfigPath: string): Promise<ClientNodeDriver> {
  const child: ChildProcess = spawn(process.execPath, [DRIVER, kubeconfigPath], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const events: DriverEvent[] = [];
  const pending = new Map<number, (r: DriverReply) => void>();
  const listeners = new Set<() => void>();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const msg = JSON.parse(line) as DriverReply & DriverEvent;
    if (typeof msg.id === 'number') {
      pending.get(msg.id)?.(msg);
      pending.delete(msg.id);
    } else {
      events.push(msg);
      for (const l of [...listeners]) l();
    }
  });

  let nextId = 1;
  const waitForEvent = (pred: (e: DriverEvent) => boolean, timeoutMs = 10_000) =>
    new Promise<DriverEvent>((resolve, reject) => {
      const check = () => {
        const found = events.find(pred);
        if (!found) return false;
        listeners.delete(check);
        clearTimeout(timer);
        resolve(found);
        return true;
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`no matching client event within ${timeoutMs} ms; events: ${JSON.stringify(events)}; stderr: ${stderr}`));
      }, timeoutMs);
      if (!check()) listeners.add(check);
    });

  const driver: ClientNodeDriver = {
    call(op, args = {}) {
      const id = nextId++;
      return new Promise<DriverReply>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${op} got no reply; stderr: ${stderr}`)), 10_000);
        pending.set(id, (r) => {
          clearTimeout(timer);
          resolve(r);
        });
        child.stdin!.write(`${JSON.stringify({ id, op, args })}\n`);
      });
    },
    events,
    waitForEvent,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.stdin!.end();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
  try {
    await waitForEvent((e) => e.event === 'ready');
  } catch (err) {
    await driver.stop();
    throw err;
  }
  return driver;
}
