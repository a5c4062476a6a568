import { CoalescedTask } from './coalesced-task';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a coalesced task', () => {
  it('runs a burst of requests as few runs, never two at once, keeping a full request', async () => {
    const runs: boolean[] = [];
    let inFlight = 0;
    let overlapped = false;
    const task = new CoalescedTask(async (full) => {
      inFlight++;
      overlapped ||= inFlight > 1;
      runs.push(full);
      await tick(20);
      inFlight--;
    }, 30);
    task.request();
    await tick(5);
    for (let i = 0; i < 10; i++) task.request(i === 4);
    await tick(120);
    await task.stop();
    expect(runs).toEqual([false, true]);
    expect(overlapped).toBe(false);
  });

  it('waits the minimum interval between the starts of two runs', async () => {
    const starts: number[] = [];
    const task = new CoalescedTask(async () => void starts.push(Date.now()), 50);
    task.request();
    await tick(5);
    task.request();
    await tick(100);
    await task.stop();
    expect(starts).toHaveLength(2);
    expect(starts[1]! - starts[0]!).toBeGreaterThanOrEqual(45);
  });
});
