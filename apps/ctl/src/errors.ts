// How atollctl fails: one line on stderr, `atollctl: <what went wrong>`, and a non-zero
// exit code. Usage mistakes (exit 2) are told apart from failures of the command (exit 1).

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** A command failed; `message` is the line the user reads. */
export class CliError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CliError';
  }
}

/** The command line was wrong (unknown flag, missing argument): exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * Text squeezed onto one line: Calico's messages sometimes end in a newline ("The provided
 * IP address is not in a configured pool\n") and loader errors list one problem per line.
 */
export function oneLine(text: string): string {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join('; ');
}
