import type { ReleaseOptions } from '@atoll/api';
import { formatIp, tryParseIp } from '@atoll/ipmath';
import { booleanFlag, expectPositionals, ParsedArgs, stringFlag, stringsFlag } from '../args';
import type { CommandContext, CtlIo, IpamApi } from '../context';
import { CliError, UsageError } from '../errors';
import { isNotFound, refusalMessage } from '../rpc-errors';
import { ATOLLCTL_VERSION } from '../version';
import { Command, GLOBAL_OPTIONS_HELP } from './command';
import { CheckReport, parseReport, ReportHandle } from './check-report';

// ipam release: one address, or the leaks listed in `ipam check` reports. Every address
// from a report is released with the handle and sequence number the report saw, so an
// address released and handed out again since is refused by the allocator, not freed.

export type ReleaseApi = Pick<IpamApi, 'releaseIPs' | 'ipsByHandle' | 'releaseByHandle'>;

export async function releaseIp(api: Pick<IpamApi, 'releaseIPs'>, io: CtlIo, ipText: string): Promise<void> {
  const parsed = tryParseIp(ipText);
  if (!parsed) throw new CliError(`Invalid IP address specified: ${ipText}`);
  const ip = formatIp(parsed);
  let result;
  try {
    result = await api.releaseIPs({ options: [{ address: ip, handleId: '', sequenceNumber: '' }] });
  } catch (err) {
    throw new CliError(refusalMessage(err));
  }
  const failure = result.errors[0];
  if (failure) throw new CliError(failure.errorMessage.trim());
  if (result.unallocated.length > 0) throw new CliError(`IP address ${ip} is not assigned`);
  io.out(`Successfully released IP address ${ip}\n`);
}

/** Leaks present in every report (calicoctl's mergeReports): addresses not in use, and handles. */
export function mergeReports(reports: readonly CheckReport[]): { ips: Map<string, ReleaseOptions>; handles: Map<string, ReportHandle> } {
  let ips: Map<string, ReleaseOptions> | undefined;
  let handles: Map<string, ReportHandle> | undefined;
  for (const report of reports) {
    const mergedIps = new Map<string, ReleaseOptions>();
    for (const list of Object.values(report.allocations)) {
      for (const a of list) {
        if (a.inUse || (ips && !ips.has(a.ip))) continue;
        mergedIps.set(a.ip, {
          address: a.ip,
          handleId: a.handle ?? '',
          sequenceNumber: a.sequenceNumber === undefined ? '' : BigInt(a.sequenceNumber).toString(),
        });
      }
    }
    ips = mergedIps;
    const mergedHandles = new Map<string, ReportHandle>();
    for (const h of report.leakedHandles ?? []) {
      const earlier = handles?.get(h.ID);
      if (!handles || (earlier && earlier.Revision === h.Revision)) mergedHandles.set(h.ID, h);
    }
    handles = mergedHandles;
  }
  return { ips: ips ?? new Map(), handles: handles ?? new Map() };
}

async function releaseLeakedIps(api: Pick<IpamApi, 'releaseIPs'>, io: CtlIo, options: readonly ReleaseOptions[]): Promise<void> {
  io.out(`Releasing ${options.length} old IPs...\n`);
  let result;
  try {
    result = await api.releaseIPs({ options: [...options] });
  } catch (err) {
    result = { unallocated: [], released: [], errors: [{ address: '', errorCode: '', errorMessage: refusalMessage(err) }] };
  }
  const failed = result.errors.length;
  if (failed > 0) {
    io.out(
      `An error occurred while releasing some IPs: ${result.errors[0]!.errorMessage.trim()}.  ` +
        'Problems are often caused by an out-of-date IPAM report.  Try regenerating the IPAM report and retry.\n',
    );
  }
  io.out(`Released ${options.length - result.unallocated.length - failed} IPs successfully\n`);
  if (result.unallocated.length > 0) {
    io.out(`${result.unallocated.length} addresses marked as leaked in the report had already been cleaned up.\n`);
  }
}

/**
 * Handles without addresses are removed with ReleaseByHandle, which deletes the handle
 * record. A handle that has gained addresses since the report is skipped ("x"): releasing
 * it would free addresses someone now uses.
 */
async function releaseLeakedHandles(api: Pick<IpamApi, 'ipsByHandle' | 'releaseByHandle'>, io: CtlIo, handles: readonly string[]): Promise<void> {
  io.out(`Deleting ${handles.length} handles...\nKey: '.' = Deleted OK; 'x' = skip, handle missing/changed.\n`);
  let released = 0;
  let skipped = 0;
  let errors = 0;
  for (const handleId of handles) {
    try {
      const { ips } = await api.ipsByHandle({ handleId });
      if (ips.length > 0) {
        skipped++;
        io.out('x');
        continue;
      }
      await api.releaseByHandle({ handleId });
      released++;
      io.out('.');
    } catch (err) {
      if (isNotFound(err)) {
        skipped++;
        io.out('x');
      } else {
        errors++;
        io.out(`\nDeleting handle ${handleId} failed: ${refusalMessage(err)}.\n`);
      }
    }
  }
  io.out(`\nReleased ${released} handles; ${skipped} skipped; ${errors} errors.\n`);
}

export async function releaseFromReports(api: ReleaseApi, io: CtlIo, files: readonly string[], force: boolean): Promise<void> {
  const reports: CheckReport[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await io.readInput(file);
    } catch (err) {
      throw new CliError(`cannot read the report ${file}: ${(err as Error).message}`);
    }
    const report = parseReport(text, file);
    if (report.version !== ATOLLCTL_VERSION) {
      if (!force) {
        throw new CliError(`the provided report (${file}) was produced using a different version (${report.version}) of atollctl. Refusing to release`);
      }
      io.out('WARNING: Report was produced using a different version of atollctl. Ignoring due to --force option\n');
    }
    reports.push(report);
  }
  // Calico wants the datastore locked while it releases. Atoll has no lock to take; the
  // sequence numbers carried from the report are what keeps a re-used address safe.
  if (!force) {
    throw new CliError(
      'data store is not locked (Atoll has no datastore lock): re-run with --force; each address is released only if it still has the sequence number in the report',
    );
  }
  io.out('WARNING: Data store is not locked. Ignoring due to --force option\n');

  const { ips, handles } = mergeReports(reports);
  if (ips.size > 0) await releaseLeakedIps(api, io, [...ips.values()]);
  else io.out("Report didn't contain any leaked IPs to clean up.\n");
  if (handles.size > 0) await releaseLeakedHandles(api, io, [...handles.keys()]);
  else io.out("Report didn't contain any handles to clean up.\n");
  io.out('You may now unlock the data store.\n');
}

export const ipamReleaseCommand: Command = {
  name: 'ipam release',
  summary: 'Release a Calico assigned IP address, or the leaks in IPAM check reports.',
  options: {
    ip: { type: 'string' },
    'from-report': { type: 'string', multiple: true },
    force: { type: 'boolean' },
  },
  usage: `Usage:
  atollctl ipam release [--ip=<IP>] [--from-report=<REPORT>]... [--force] [--allocator=<ADDR>]

Options:
     --ip=<IP>                 IP address to release.
     --from-report=<REPORT>    Release all leaked addresses from the report. If multiple
                               reports are specified then only leaked IPs common to all
                               reports will be released.
     --force                   Force release of leaked addresses (Atoll has no datastore
                               lock, so releasing from a report always needs it).
${GLOBAL_OPTIONS_HELP}

Description:
  The ipam release command releases an IP address from the Calico IP Address
  Manager that has been previously assigned to an endpoint. When an IP address
  is released, it becomes available for assignment to any endpoint.

  Note that this does not remove the IP from any existing endpoints that may be
  using it, so only use this command to clean up addresses from endpoints that
  were not cleanly removed from Calico.
`,
  async run(ctx: CommandContext, args: ParsedArgs) {
    expectPositionals('ipam release', args, 0, 0, 'arguments');
    const reports = stringsFlag(args, 'from-report');
    const ip = stringFlag(args, 'ip');
    if (reports.length > 0 && ip !== undefined) {
      throw new UsageError("flags --ip and --from-report cannot be used together; see 'atollctl ipam release --help'");
    }
    if (reports.length > 0) return releaseFromReports(ctx.ipam, ctx.io, reports, booleanFlag(args, 'force'));
    if (ip !== undefined) return releaseIp(ctx.ipam, ctx.io, ip);
    throw new UsageError("'atollctl ipam release' needs --ip=<IP> or --from-report=<REPORT>; see 'atollctl ipam release --help'");
  },
};
