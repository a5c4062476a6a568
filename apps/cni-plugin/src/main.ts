import { runPlugin } from './plugin';
import { ATOLL_VERSION } from './version';
import { SUPPORTED_VERSIONS } from './versions';

// The atoll-ipam executable. Kept thin (conventions: thin binaries): it only connects the
// process (env, stdin, stdout, exit status) to runPlugin. Imports stay limited to node:
// built-ins so that every exec by the container runtime starts in bare Node's time.

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv.includes('-v') || argv.includes('--version')) {
    process.stdout.write(`atoll-ipam ${ATOLL_VERSION}\n`);
    return;
  }
  if (!process.env['CNI_COMMAND']) {
    // A person ran it by hand; the runtime always sets CNI_COMMAND. The error still goes
    // to stdout below, as the spec wants; this line is for the person.
    process.stderr.write(`atoll-ipam ${ATOLL_VERSION}: Atoll's CNI IPAM plugin, run by the container runtime (CNI ${SUPPORTED_VERSIONS.join(', ')})\n`);
  }
  const outcome = await runPlugin({ env: process.env, stdin: process.stdin, stdinIsTTY: process.stdin.isTTY === true });
  // Pipes are written synchronously on Linux, so setting exitCode (not exit()) loses nothing.
  if (outcome.stdout !== '') process.stdout.write(outcome.stdout);
  process.exitCode = outcome.exitCode;
}

void main();
