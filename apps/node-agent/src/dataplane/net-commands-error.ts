// An iproute2 (or nsenter) command that failed, with what it printed.

export class NetCommandError extends Error {
  constructor(
    readonly command: string,
    readonly stderr: string,
  ) {
    super(`${command}: ${stderr.trim() || 'failed'}`);
    this.name = 'NetCommandError';
  }

  /** iproute2's answer when the device a command names does not exist. */
  get noSuchDevice(): boolean {
    return /Cannot find device|No such device/.test(this.stderr);
  }

  get alreadyExists(): boolean {
    return /File exists/.test(this.stderr);
  }
}
