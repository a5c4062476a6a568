import path from 'node:path';
import pino from 'pino';
import { startAgent } from './agent';
import { ConfigError, parseAgentConfig, usage } from './config';
import { installCni } from './install-cni';

async function main(): Promise<void> {
  let config;
  try {
    config = parseAgentConfig(process.argv.slice(2), process.env, path.join(path.dirname(process.argv[1] ?? '.'), 'atoll-ipam'));
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`atoll-node-agent: ${err.message}\n${usage()}`);
      process.exit(2);
    }
    throw err;
  }
  if (config === 'help') {
    process.stdout.write(usage());
    return;
  }
  const log = pino({ name: 'atoll-node-agent', level: config.logLevel, base: { pid: process.pid, node: config.nodeName }, timestamp: pino.stdTimeFunctions.isoTime });
  if (config.installCni) {
    const done = installCni({ ...config.installCni, socket: config.socket });
    log.info(done, 'installed the CNI plugin and configuration');
    return;
  }
  const agent = await startAgent(config, log);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    agent.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`atoll-node-agent: ${(err as Error).message}\n`);
  process.exit(1);
});
