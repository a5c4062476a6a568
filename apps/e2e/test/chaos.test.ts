import { FAULT_KINDS, formatReportLines, runChaos, SHORT_FORM, type ChaosReport } from '../../../tools/chaos';

// The chaos suite's short form (the long one is `npm run chaos`): a 3-member etcd, two
// allocator replicas and five node agents under a load of pod ADD/DEL cycles through the
// real atoll-ipam, while allocator replicas are SIGKILLed and restarted, the etcd leader is
// killed and restarted, agents are restarted, a replica is cut off from every etcd member
// and a replica's links to etcd drop every answer for a while, and etcd is filled to its
// quota and recovered by an operator's steps; sticky StatefulSet pods are deleted and
// recreated on another node all along. The promises checked are in
// RELIABILITY.md; every one of them must hold for the run to pass.

describe('chaos: allocator crashes, etcd leader loss, agent restarts, allocator–etcd partitions and a full etcd under load', () => {
  let report: ChaosReport;
  const lines: string[] = [];

  beforeAll(async () => {
    report = await runChaos({ ...SHORT_FORM, log: (line) => lines.push(line) });
    process.stderr.write(`${[...lines, ...formatReportLines(report), JSON.stringify({ operations: report.operations.total, faults: report.faults.byKind, failuresByCode: report.failures.byCode, duplicates: report.duplicates, leaks: report.leaks })].join('\n')}\n`);
  }, 170_000);

  it('ran the whole load and injected every kind of fault', () => {
    expect(report.operations.total).toBeGreaterThanOrEqual(SHORT_FORM.operations);
    expect(report.faults.total).toBeGreaterThanOrEqual(SHORT_FORM.minFaults);
    expect(Object.keys(report.faults.byKind).sort()).toEqual([...FAULT_KINDS].sort());
    for (const n of Object.values(report.faults.byKind)) expect(n).toBeGreaterThanOrEqual(1);
    expect(report.operations.podsAttached).toBeGreaterThan(0);
    expect(report.operations.staticAttached).toBeGreaterThan(0);
  });

  it('never lets two live pods or two handles hold one address, checked continuously', () => {
    expect(report.monitor.listings).toBeGreaterThan(20);
    expect(report.duplicateFindings).toEqual([]);
    expect(report.duplicates).toBe(0);
  });

  it('keeps each sticky StatefulSet pod\'s addresses across recreations on other nodes, and hands them to no other pod', () => {
    expect(report.sticky.pods).toBe(SHORT_FORM.stickyPods);
    expect(report.sticky.identities).toBe(SHORT_FORM.stickyPods);
    expect(report.sticky.adds).toBeGreaterThan(2 * SHORT_FORM.stickyPods);
    expect(report.sticky.changedFindings).toEqual([]);
    expect(report.sticky.changed).toBe(0);
  });

  it('never loses the allocation of an address a live pod holds', () => {
    expect(report.lostFindings).toEqual([]);
  });

  it('releases what a failed ADD assigned without waiting for the runtime\'s (late) DEL', () => {
    expect(report.heldAfterFailedAddFindings).toEqual([]);
    expect(report.heldAfterFailedAdd).toBe(0);
  });

  it('fails ADD and DEL only with the retryable CNI code 11, and never hangs past the bound', () => {
    expect(report.failures.notRetryable).toEqual([]);
    expect(Object.keys(report.failures.byCode).every((code) => code === '11')).toBe(true);
    expect(report.hangs).toBe(0);
    expect(report.latencyMs.add.max).toBeLessThan(SHORT_FORM.boundMs);
    expect(report.latencyMs.del.max).toBeLessThan(SHORT_FORM.boundMs);
  });

  it('answers code 11 through an agent whose allocator or whose own process is down, or whose allocator is cut off from etcd', () => {
    expect(report.probes.length).toBeGreaterThanOrEqual(2);
    for (const p of report.probes) expect(p).toMatchObject({ code: 11 });
  });

  it('reports a replica cut off from etcd as not ready, and ready again soon after every partition heals', () => {
    const partitions = report.faults.log.filter((f) => f.kind === 'allocator-etcd-cut' || f.kind === 'allocator-etcd-one-way');
    for (const f of report.faults.log.filter((p) => p.kind === 'agent-allocator-cut')) {
      expect(f.probe).toMatchObject({ code: 11 });
      expect(f.retryAfterHeal).toMatchObject({ code: 0 });
    }
    expect(partitions.length).toBeGreaterThanOrEqual(2);
    for (const f of partitions.filter((p) => p.kind === 'allocator-etcd-cut')) expect(f.notReadyWhileCut).toBe(true);
    for (const f of partitions) {
      expect(f.readyAfterHealMs).toBeGreaterThanOrEqual(0);
      expect(f.readyAfterHealMs).toBeLessThan(10_000);
    }
  });

  it('says that etcd is out of space when it is, keeps reads working, and serves again after the operator\'s steps without a restart', () => {
    const full = report.faults.log.filter((f) => f.kind === 'etcd-nospace');
    expect(full.length).toBeGreaterThanOrEqual(1);
    for (const f of full) {
      expect(f.probe).toMatchObject({ code: 11, msg: expect.stringContaining('etcd is out of space') });
      expect(f.noSpace).toMatchObject({ refusal: expect.stringContaining('database space exceeded'), readsWorked: true });
      expect(f.noSpace!.resumedAfterMs).toBeGreaterThanOrEqual(0);
    }
  });

  it('leaves nothing allocated once every pod is deleted, and ipam check finds no problem', () => {
    expect(report.stuckDeletes).toBe(0);
    expect(report.leakedAllocations).toEqual([]);
    expect(report.leakedHandles).toBe(0);
    expect(report.ipamShowInUse).toBe(0);
    expect(report.ipamCheck).toMatchObject({ exitCode: 0, problems: 0, summary: 'Check complete; found 0 problems.' });
  });

  it('stops every process it started', () => {
    expect(report.leftoverProcesses).toEqual([]);
    expect(report.problems).toEqual([]);
  });
});
