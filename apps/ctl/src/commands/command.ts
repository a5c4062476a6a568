import type { OptionSpecs, ParsedArgs } from '../args';
import type { CommandContext } from '../context';

/** One atollctl command: its flags, its help text and what it does. */
export interface Command {
  /** As typed: "get", "ipam show". */
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** The --help text (docopt style, as calicoctl's). */
  readonly usage: string;
  readonly options: OptionSpecs;
  run(ctx: CommandContext, args: ParsedArgs): Promise<void>;
}

/** The flag lines every command's help ends with. */
export const GLOBAL_OPTIONS_HELP = `  -h --help                 Show this screen.
     --allocator=<ADDR>     The allocator's gRPC address, host:port
                            [default: $ATOLL_ALLOCATOR or 127.0.0.1:7443].`;
