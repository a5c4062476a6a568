import { isIP } from 'node:net';
import { booleanFlag, expectPositionals, ParsedArgs, stringFlag } from '../args';
import type { CommandContext } from '../context';
import { CliError, UsageError } from '../errors';
import { UI_ASSETS } from '../ui/generated/assets';
import { startUiServer } from '../ui/server';
import { takeSnapshot } from '../ui/snapshot';
import { Command, GLOBAL_OPTIONS_HELP } from './command';

// ipam ui: a live map of the address space in a browser, served by atollctl itself over
// the same allocator connection as every other command. It listens on loopback unless told
// otherwise (the page shows pod names) and serves until SIGINT or SIGTERM.

export const DEFAULT_UI_LISTEN = '127.0.0.1:8080';
export const UI_REFRESH_MS = 3000;

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

const see = "see 'atollctl ipam ui --help'";

/** "127.0.0.1:8080", "[::1]:0", "localhost:9000" → host and port, or a usage error. */
export function parseListen(text: string): ListenAddress {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text.trim());
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (!m || !host || port > 65535 || (host !== 'localhost' && isIP(host) === 0)) {
    throw new UsageError(`flag --listen needs an IP address and port, e.g. 127.0.0.1:8080 or [::1]:8080, got ${JSON.stringify(text)}; ${see}`);
  }
  return { host, port };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

export const ipamUiCommand: Command = {
  name: 'ipam ui',
  summary: 'Serve a live map of the address space to a browser.',
  options: {
    listen: { type: 'string' },
    open: { type: 'boolean' },
    'insecure-listen': { type: 'boolean' },
  },
  usage: `Usage:
  atollctl ipam ui [--listen=<HOST:PORT>] [--insecure-listen] [--open] [--allocator=<ADDR>]

Options:
     --listen=<HOST:PORT>   Where to serve the page [default: ${DEFAULT_UI_LISTEN}];
                            port 0 picks a free one.
     --insecure-listen      Allow a --listen address other than loopback (the page
                            shows pod names and has no login).
     --open                 Open the page with xdg-open, when there is one.
${GLOBAL_OPTIONS_HELP}

Description:
  The ipam ui command serves a page that draws every IP pool as its address space:
  blocks by node with their fill, borrowed and tunnel addresses, IPReservations,
  nodes against their block limit, and what 'ipam check' finds. It asks the
  allocator again every few seconds, with this command's allocator flags and
  credentials, and prints the address it serves on. It runs until interrupted.
`,
  async run(ctx: CommandContext, args: ParsedArgs) {
    expectPositionals('ipam ui', args, 0, 0, 'arguments');
    const listen = parseListen(stringFlag(args, 'listen') ?? DEFAULT_UI_LISTEN);
    if (!isLoopback(listen.host) && !booleanFlag(args, 'insecure-listen')) {
      throw new UsageError(`flag --listen: ${listen.host} is not a loopback address and the page shows pod names; add --insecure-listen to serve it anyway; ${see}`);
    }
    if (!ctx.io.untilStopped) throw new CliError('ipam ui needs to run as a process that can be interrupted');
    const stopped = ctx.io.untilStopped();
    let server;
    try {
      server = await startUiServer({
        host: listen.host,
        port: listen.port,
        assets: UI_ASSETS,
        refreshMs: UI_REFRESH_MS,
        takeSnapshot: () => takeSnapshot({ ipam: ctx.ipam, resources: ctx.resources }),
      });
    } catch (err) {
      throw new CliError(`cannot listen on ${listen.host}:${listen.port}: ${(err as Error).message}`);
    }
    const url = `http://${server.address}/`;
    ctx.io.out(`Serving the IPAM map of ${ctx.allocator} at ${url} (interrupt to stop)\n`);
    if (booleanFlag(args, 'open') && ctx.io.openUrl && !(await ctx.io.openUrl(url))) {
      ctx.io.out(`Could not open a browser; open ${url} yourself.\n`);
    }
    await stopped;
    await server.close();
  },
};
