import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { launch, type Browser } from 'puppeteer-core';
import { ATOLLCTL_BIN, stopPid } from './stack';

// `atollctl ipam ui` as a process, and a headless Chromium from the system to look at it.
// The browser is told to reach nothing but 127.0.0.1; every process is stopped by its PID.

export const CHROMIUM = process.env['ATOLL_CHROMIUM'] ?? '/usr/bin/chromium';

export interface RunningUi {
  readonly pid: number;
  /** http://127.0.0.1:PORT/ as printed by atollctl. */
  readonly url: string;
  output(): string;
  stop(): Promise<void>;
}

/** Starts dist/bin/atollctl ipam ui on a free loopback port and waits for the address it prints. */
export function startUi(args: readonly string[], env: Record<string, string>): Promise<RunningUi> {
  const child = spawn(ATOLLCTL_BIN, ['ipam', 'ui', '--listen', '127.0.0.1:0', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stopPid(child);
      reject(new Error(`atollctl ipam ui printed no address within 10 s: ${out}${err}`));
    }, 10_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`atollctl ipam ui exited with ${code}: ${out}${err}`));
    });
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const url = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)?.[1];
      if (!url) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve({ pid: child.pid!, url, output: () => out + err, stop: () => stopPid(child) });
    });
  });
}

/** Headless Chromium that can only reach 127.0.0.1. */
export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run tools/install-system-deps.sh`);
  return launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // No name resolves, and anything not on loopback (which Chromium never proxies) goes to a closed port.
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
      '--proxy-server=http://127.0.0.1:9',
    ],
    defaultViewport: { width: 1400, height: 1000 },
  });
}

/** Closes the browser, and kills its process by PID if closing did not end it. */
export async function closeChromium(browser: Browser | undefined): Promise<void> {
  const pid = browser?.process()?.pid;
  await browser?.close().catch(() => undefined);
  if (pid === undefined) return;
  try {
    process.kill(pid, 0);
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
