import { startAllocator } from './allocator';
import { ConfigError, parseAllocatorConfig, usage } from './config';
import { createLogger } from './logger';

async function main(): Promise<void> {
  let config;
  try {
    config = parseAllocatorConfig(process.argv.slice(2), process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`atoll-allocator: ${err.message}\n${usage()}`);
      process.exit(2);
    }
    throw err;
  }
  if (config === 'help') {
    process.stdout.write(usage());
    return;
  }
  const log = createLogger(config.logLevel, 'atoll-allocator');
  const running = await startAllocator(config, log);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    running.stop().then(
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
  process.stderr.write(`atoll-allocator: ${(err as Error).message}\n`);
  process.exit(1);
});
