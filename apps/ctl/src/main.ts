import { channelCredentialsFromFiles, connectAllocator, diagnoseConnection, readTlsFiles } from '@atoll/api';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import type { CtlIo } from './context';
import { runAtollctl } from './run';

// atollctl: parse, dispatch, exit code. Everything else lives in run.ts and commands/.

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

// grpc-js names a TLS connection to an IP address with that address as server name, and Node
// warns about it (DEP0123) on stderr — which is reserved for the one failure line.
process.noDeprecation = true;

// `atollctl get ippools | head -1` closes the pipe early; that is not a failure.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const io: CtlIo = {
  out: (text) => void process.stdout.write(text),
  readInput: (path) => (path === '-' ? readStdin() : readFile(path, 'utf8')),
  writeFile: (path, text) => writeFile(path, text, { mode: 0o600 }),
  untilStopped: () =>
    new Promise((resolve) => {
      const stop = (signal: NodeJS.Signals) => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve(signal);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    }),
  // xdg-open may be missing (a server, a container): that is reported, never a failure.
  openUrl: (url) =>
    new Promise((resolve) => {
      const child = spawn('xdg-open', [url], { stdio: 'ignore', detached: true });
      child.once('error', () => resolve(false));
      child.once('spawn', () => {
        child.unref();
        resolve(true);
      });
    }),
};

/** Bound on each call atollctl makes to the allocator. */
const CALL_TIMEOUT_MS = 60_000;

runAtollctl(process.argv.slice(2), {
  io,
  err: (text) => void process.stderr.write(text),
  env: process.env,
  connect: (address, tls) => {
    // A full-cluster check or show moves tens of MiB (150 000 addresses: ~30 MiB per listing)
    // and can take longer than a client's usual 10 s; an allocator that does not answer at
    // all is caught first by the 2 s health probe.
    const clients = connectAllocator(address, { defaultTimeoutMs: CALL_TIMEOUT_MS, ...(tls && { credentials: channelCredentialsFromFiles(tls) }) });
    return { ...clients, diagnose: () => diagnoseConnection(address, tls ? readTlsFiles(tls) : undefined) };
  },
}).then(
  (code) => {
    // exitCode, not exit(): let stdout drain first.
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`atollctl: internal error: ${(err as Error).message}\n`);
    process.exitCode = 1;
  },
);
