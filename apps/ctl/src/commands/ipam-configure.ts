import type { SetIPAMConfigRequest } from '@atoll/api';
import { expectPositionals, ParsedArgs, stringFlag } from '../args';
import type { CommandContext, CtlIo, IpamApi } from '../context';
import { CliError, UsageError } from '../errors';
import { refusalMessage } from '../rpc-errors';
import { Command, GLOBAL_OPTIONS_HELP } from './command';

// ipam configure: only the options given change. The allocator reads the stored config,
// applies them, checks Calico's cross-field rules and writes with a compare on what it read.

export const IP_COOLDOWN_SECONDS_MAX = 1200;

export interface ConfigureFlags {
  readonly strictAffinity?: string;
  readonly maxBlocksPerHost?: string;
  readonly ipCooldownSeconds?: string;
  readonly kubeVirtIpPersistence?: string;
}

/** Go's strconv.ParseBool, which calicoctl uses for --strictaffinity. */
function parseGoBool(text: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  return undefined;
}

function parseCount(text: string, max: number): number | undefined {
  if (!/^\+?\d+$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) && n <= max ? n : undefined;
}

/** The request for the flags given, or a usage error in calicoctl's words. */
export function configureRequest(flags: ConfigureFlags): SetIPAMConfigRequest {
  const request: SetIPAMConfigRequest = {};
  if (flags.strictAffinity !== undefined) {
    const v = parseGoBool(flags.strictAffinity);
    if (v === undefined) throw new UsageError('invalid value. Use true or false to set strictaffinity');
    request.strictAffinity = v;
  }
  if (flags.maxBlocksPerHost !== undefined) {
    const v = parseCount(flags.maxBlocksPerHost, 2 ** 31 - 1);
    if (v === undefined) throw new UsageError('invalid value for maxblockhost. Use a valid number');
    request.maxBlocksPerHost = v;
  }
  if (flags.kubeVirtIpPersistence !== undefined) {
    if (flags.kubeVirtIpPersistence !== 'Enabled' && flags.kubeVirtIpPersistence !== 'Disabled') {
      throw new UsageError('invalid value for --kubevirt-ip-persistence. Use Enabled or Disabled');
    }
    request.kubeVirtVmAddressPersistence = flags.kubeVirtIpPersistence;
  }
  if (flags.ipCooldownSeconds !== undefined) {
    const v = parseCount(flags.ipCooldownSeconds, IP_COOLDOWN_SECONDS_MAX);
    if (v === undefined) {
      throw new UsageError(`invalid value for --ip-cooldown-seconds. Use a number of seconds from 0 to ${IP_COOLDOWN_SECONDS_MAX}`);
    }
    request.ipCooldownSeconds = v;
  }
  if (Object.keys(request).length === 0) throw new UsageError('at least one configuration option must be specified');
  return request;
}

export async function configureIpam(api: Pick<IpamApi, 'setIpamConfig'>, io: CtlIo, flags: ConfigureFlags): Promise<void> {
  const request = configureRequest(flags);
  try {
    await api.setIpamConfig(request);
  } catch (err) {
    throw new CliError(refusalMessage(err));
  }
  let text = '';
  if (request.strictAffinity !== undefined) text += `Successfully set StrictAffinity to: ${request.strictAffinity}\n`;
  if (request.maxBlocksPerHost !== undefined) text += `Successfully set MaxBlocksPerHost to: ${request.maxBlocksPerHost}\n`;
  if (request.kubeVirtVmAddressPersistence !== undefined) {
    text += `Successfully set KubeVirtVMAddressPersistence to: ${request.kubeVirtVmAddressPersistence}\n`;
  }
  if (request.ipCooldownSeconds !== undefined) text += `Successfully set IPCooldownSeconds to: ${request.ipCooldownSeconds}\n`;
  io.out(text);
}

export const ipamConfigureCommand: Command = {
  name: 'ipam configure',
  summary: 'Configure IPAM (strict affinity, block limit, release cooldown).',
  options: {
    strictaffinity: { type: 'string' },
    'max-blocks-per-host': { type: 'string' },
    'ip-cooldown-seconds': { type: 'string' },
    'kubevirt-ip-persistence': { type: 'string' },
  },
  usage: `Usage:
  atollctl ipam configure [--strictaffinity=<true/false>]
                          [--max-blocks-per-host=<number>]
                          [--ip-cooldown-seconds=<seconds>]
                          [--kubevirt-ip-persistence=<Enabled|Disabled>]
                          [--allocator=<ADDR>]

Options:
     --strictaffinity=<true/false>   Set StrictAffinity to true/false. When StrictAffinity
                                     is true, borrowing IP addresses is not allowed.
     --max-blocks-per-host=<number>  Set the maximum number of blocks that can be affine
                                     to a host (0: Calico's built-in limit of 20; needs
                                     StrictAffinity).
     --ip-cooldown-seconds=<seconds> Seconds a released address stays unassignable
                                     (0 to ${IP_COOLDOWN_SECONDS_MAX}).
     --kubevirt-ip-persistence=<Enabled|Disabled>
                                     Control whether KubeVirt VMs retain persistent IP
                                     addresses across lifecycle events.
${GLOBAL_OPTIONS_HELP}

Description:
  Modify configuration for Calico IP address management.
`,
  async run(ctx: CommandContext, args: ParsedArgs) {
    expectPositionals('ipam configure', args, 0, 0, 'arguments');
    await configureIpam(ctx.ipam, ctx.io, {
      strictAffinity: stringFlag(args, 'strictaffinity'),
      maxBlocksPerHost: stringFlag(args, 'max-blocks-per-host'),
      ipCooldownSeconds: stringFlag(args, 'ip-cooldown-seconds'),
      kubeVirtIpPersistence: stringFlag(args, 'kubevirt-ip-persistence'),
    });
  },
};
