// Everything a benchmark starts or creates is registered here as it is made, and undone
// in reverse order when the benchmark ends — normally, by an error, or by Ctrl-C/SIGTERM.
// Processes are stopped by their own PID (never by name); namespaces by their own name.

export class Teardown {
  private readonly steps: { label: string; undo: () => Promise<unknown> }[] = [];
  private running: Promise<void> | undefined;

  constructor() {
    const onSignal = (signal: NodeJS.Signals) => {
      process.stderr.write(`\n${signal}: stopping every process and deleting every namespace this benchmark made…\n`);
      void this.run().finally(() => process.exit(130));
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  }

  /** Registers `undo`; returns a function that runs it now (once) and unregisters it. */
  add(label: string, undo: () => Promise<unknown>): () => Promise<void> {
    const step = { label, undo };
    this.steps.push(step);
    return async () => {
      const i = this.steps.indexOf(step);
      if (i === -1) return;
      this.steps.splice(i, 1);
      await undo();
    };
  }

  /** Undoes everything still registered, newest first; reports failures and keeps going. */
  run(): Promise<void> {
    this.running ??= (async () => {
      while (this.steps.length > 0) {
        const step = this.steps.pop()!;
        try {
          await step.undo();
        } catch (err) {
          process.stderr.write(`teardown: ${step.label}: ${(err as Error).message}\n`);
        }
      }
    })();
    return this.running;
  }
}

/** Runs `main` with a fresh Teardown, always tearing down; exits 1 on failure. */
export function runBenchmark(main: (teardown: Teardown) => Promise<void>): void {
  const teardown = new Teardown();
  main(teardown)
    .then(
      () => teardown.run(),
      async (err: unknown) => {
        process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
        await teardown.run();
        process.exitCode = 1;
      },
    )
    .finally(() => {
      // grpc-js and etcd3 may keep timers alive after close; the benchmark is done.
      setTimeout(() => process.exit(process.exitCode ?? 0), 100).unref();
    });
}
