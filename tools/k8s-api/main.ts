import pino from 'pino';
import { startKubeApiStandIn, type KubeApiStandInOptions } from './index';

// CLI for the local quickstart:
//   node tools/run-ts.js tools/k8s-api/main.ts [--port 0] [--kubeconfig-out FILE] [--token T]
//     [--history-limit N] [--bookmark-interval-ms MS] [--strict-namespaces] [--log-level LEVEL]
// Prints `KUBE_API_URL=…` and `KUBECONFIG=…` on stdout (shell-assignable lines), logs JSON
// to stderr, and serves until SIGINT/SIGTERM.

const USAGE =
  'usage: main.ts [--port N] [--kubeconfig-out FILE] [--token T] [--history-limit N] ' +
  '[--bookmark-interval-ms MS] [--strict-namespaces] [--log-level LEVEL]';

interface CliOptions extends KubeApiStandInOptions {
  logLevel: string;
}

function parseArgs(argv: readonly string[]): CliOptions {
  const opts: CliOptions = { logLevel: 'info' };
  const int = (flag: string, v: string | undefined): number => {
    if (v === undefined || !/^\d+$/.test(v)) throw new Error(`${flag} needs a non-negative integer\n${USAGE}`);
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    switch (flag) {
      case '--port': opts.port = int(flag, value()); break;
      case '--kubeconfig-out': opts.kubeconfigPath = value(); break;
      case '--token': opts.token = value(); break;
      case '--history-limit': opts.historyLimit = int(flag, value()); break;
      case '--bookmark-interval-ms': opts.bookmarkIntervalMs = int(flag, value()); break;
      case '--strict-namespaces': opts.strictNamespaces = true; break;
      case '--log-level': opts.logLevel = value(); break;
      case '--help': process.stdout.write(`${USAGE}\n`); process.exit(0); break;
      default: throw new Error(`unknown argument ${flag}\n${USAGE}`);
    }
  }
  return opts;
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const logger = pino({ name: 'k8s-api-stand-in', level: opts.logLevel }, pino.destination(2));
  const standIn = await startKubeApiStandIn({ ...opts, logger });
  process.stdout.write(`KUBE_API_URL=${standIn.url}\nKUBECONFIG=${standIn.kubeconfigPath}\n`);
  logger.info({ url: standIn.url, kubeconfig: standIn.kubeconfigPath }, 'serving');
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'stopping');
    standIn.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
});
