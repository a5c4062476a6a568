import type { Allocation } from '@atoll/api';
import { formatJson } from '../format/json';
import { FakeAllocator, runCtl } from '../testing/fake-allocator';
import { ATOLLCTL_VERSION } from '../version';
import { newReport, type ReportAllocation } from './check-report';
import { mergeReports } from './ipam-release';

const alloc = (address: string, handleId: string, sequenceNumber: string): Allocation => ({
  address,
  block: '10.1.0.0/26',
  handleId,
  attributes: { node: 'node-1' },
  sequenceNumber,
  blockAffinity: 'host:node-1',
});

function fake(): FakeAllocator {
  const f = new FakeAllocator();
  f.allocations = [alloc('10.1.0.1', 'h1', '100'), alloc('10.1.0.2', 'h2', '101'), alloc('10.1.0.3', 'h3', '102')];
  f.extraHandles.add('leaked-1');
  return f;
}

describe('ipam release --ip', () => {
  it('releases an address in use', async () => {
    const f = fake();
    const run = await runCtl(['ipam', 'release', '--ip=10.1.0.2'], f);
    expect(run).toMatchObject({ code: 0, stdout: 'Successfully released IP address 10.1.0.2\n', stderr: '' });
    expect(f.allocations.map((a) => a.address)).toEqual(['10.1.0.1', '10.1.0.3']);
    expect(f.callsOf('ipam.releaseIPs')).toEqual([{ options: [{ address: '10.1.0.2', handleId: '', sequenceNumber: '' }] }]);
  });

  it.each([
    ['10.1.0.9', 'atollctl: IP address 10.1.0.9 is not assigned\n'],
    ['fd00:0::9', 'atollctl: IP address fd00::9 is not assigned\n'],
    ['10.1.0', 'atollctl: Invalid IP address specified: 10.1.0\n'],
  ])('refuses %p with one line', async (ip, stderr) => {
    expect(await runCtl(['ipam', 'release', `--ip=${ip}`], fake())).toMatchObject({ code: 1, stdout: '', stderr });
  });

  it('needs --ip or --from-report, and not both', async () => {
    expect((await runCtl(['ipam', 'release'], fake())).stderr).toBe(
      "atollctl: 'atollctl ipam release' needs --ip=<IP> or --from-report=<REPORT>; see 'atollctl ipam release --help'\n",
    );
    expect((await runCtl(['ipam', 'release', '--ip=10.1.0.1', '--from-report=r.json'], fake())).code).toBe(2);
  });
});

const entry = (ip: string, handle: string, sequenceNumber: bigint, inUse: boolean): ReportAllocation => ({ ip, handle, sequenceNumber, inUse, owners: [] });

function reportText(entries: ReportAllocation[], leaked: string[] = [], version = ATOLLCTL_VERSION): string {
  return formatJson({ ...newReport(Object.fromEntries(entries.map((e) => [e.ip, [e]])), leaked), version });
}

describe('ipam release --from-report', () => {
  it('releases the addresses a report marks not in use, with their sequence numbers, and deletes leaked handles', async () => {
    const f = fake();
    const report = reportText([entry('10.1.0.1', 'h1', 100n, false), entry('10.1.0.2', 'h2', 101n, true), entry('10.1.0.3', 'h3', 999n, false)], ['leaked-1', 'h2']);
    const run = await runCtl(['ipam', 'release', '--from-report=r.json', '--force'], f, { files: { 'r.json': report } });
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toBe(
      [
        'WARNING: Data store is not locked. Ignoring due to --force option',
        'Releasing 2 old IPs...',
        'An error occurred while releasing some IPs: the given sequence number (999) does not match (102) when attempting to release IP.  ' +
          'Problems are often caused by an out-of-date IPAM report.  Try regenerating the IPAM report and retry.',
        'Released 1 IPs successfully',
        'Deleting 2 handles...',
        "Key: '.' = Deleted OK; 'x' = skip, handle missing/changed.",
        '.x',
        'Released 1 handles; 1 skipped; 0 errors.',
        'You may now unlock the data store.',
        '',
      ].join('\n'),
    );
    expect(f.allocations.map((a) => a.address)).toEqual(['10.1.0.2', '10.1.0.3']);
    expect(f.callsOf('ipam.releaseIPs')).toEqual([
      {
        options: [
          { address: '10.1.0.1', handleId: 'h1', sequenceNumber: '100' },
          { address: '10.1.0.3', handleId: 'h3', sequenceNumber: '999' },
        ],
      },
    ]);
    expect(f.callsOf('ipam.releaseByHandle')).toEqual([{ handleId: 'leaked-1' }]);
  });

  it('says when a report has nothing to release', async () => {
    const run = await runCtl(['ipam', 'release', '--from-report=r.json', '--force'], fake(), { files: { 'r.json': reportText([entry('10.1.0.1', 'h1', 100n, true)]) } });
    expect(run.stdout).toBe(
      "WARNING: Data store is not locked. Ignoring due to --force option\nReport didn't contain any leaked IPs to clean up.\nReport didn't contain any handles to clean up.\nYou may now unlock the data store.\n",
    );
  });

  it('counts addresses already released since the report', async () => {
    const run = await runCtl(['ipam', 'release', '--from-report=r.json', '--force'], fake(), { files: { 'r.json': reportText([entry('10.1.0.7', 'h7', 5n, false)]) } });
    expect(run.stdout).toContain('Released 0 IPs successfully\n1 addresses marked as leaked in the report had already been cleaned up.\n');
  });

  it.each<[string, string[], Record<string, string>, string]>([
    ['without --force (Atoll has no datastore lock)', [], { 'r.json': reportText([]) }, 'data store is not locked (Atoll has no datastore lock): re-run with --force'],
    ['a report from another version', [], { 'r.json': reportText([], [], 'v9.9.9') }, 'the provided report (r.json) was produced using a different version (v9.9.9) of atollctl. Refusing to release'],
    ['a file that is not JSON', ['--force'], { 'r.json': 'nope' }, 'the provided report (r.json) is not valid JSON'],
    ['JSON that is not a report', ['--force'], { 'r.json': '{"version":"v0.1.0","allocations":[]}' }, 'the provided report (r.json) is not an IPAM check report: "allocations" is not an object'],
    ['a missing file', ['--force'], {}, 'cannot read the report r.json'],
  ])('refuses %s and releases nothing', async (_title, flags, files, message) => {
    const f = fake();
    const run = await runCtl(['ipam', 'release', '--from-report=r.json', ...flags], f, { files });
    expect(run.code).toBe(1);
    expect(run.stderr.startsWith(`atollctl: ${message}`)).toBe(true);
    expect(run.stderr.split('\n')).toHaveLength(2);
    expect(f.callsOf('ipam.releaseIPs')).toEqual([]);
  });

  it('accepts a report from another version with --force, warning about it', async () => {
    const run = await runCtl(['ipam', 'release', '--from-report=r.json', '--force'], fake(), { files: { 'r.json': reportText([], [], 'v9.9.9') } });
    expect(run.code).toBe(0);
    expect(run.stdout.startsWith('WARNING: Report was produced using a different version of atollctl. Ignoring due to --force option\n')).toBe(true);
  });

  it('releases only what every report marks as leaked', async () => {
    const first = reportText([entry('10.1.0.1', 'h1', 100n, false), entry('10.1.0.2', 'h2', 101n, false)], ['leaked-1', 'x']);
    const second = reportText([entry('10.1.0.1', 'h1', 100n, false), entry('10.1.0.2', 'h2', 101n, true)], ['leaked-1']);
    const f = fake();
    const run = await runCtl(['ipam', 'release', '--from-report=a.json', '--from-report=b.json', '--force'], f, { files: { 'a.json': first, 'b.json': second } });
    expect(run.code).toBe(0);
    expect(f.callsOf('ipam.releaseIPs')).toEqual([{ options: [{ address: '10.1.0.1', handleId: 'h1', sequenceNumber: '100' }] }]);
    expect(f.callsOf('ipam.releaseByHandle')).toEqual([{ handleId: 'leaked-1' }]);
  });
});

describe('mergeReports', () => {
  it('keeps a handle only when every report saw it at the same revision', () => {
    const a = { ...newReport({}, []), leakedHandles: [{ ID: 'h', UID: null, Revision: '1' }, { ID: 'k', UID: null, Revision: '1' }] };
    const b = { ...newReport({}, []), leakedHandles: [{ ID: 'h', UID: null, Revision: '1' }, { ID: 'k', UID: null, Revision: '2' }] };
    expect([...mergeReports([a, b]).handles.keys()]).toEqual(['h']);
  });
});
