import { FakeAllocator, runCtl } from '../testing/fake-allocator';

describe('ipam configure', () => {
  it.each<[string[], string, Record<string, unknown>]>([
    [['--strictaffinity=true'], 'Successfully set StrictAffinity to: true\n', { strictAffinity: true }],
    [['--strictaffinity=False'], 'Successfully set StrictAffinity to: false\n', { strictAffinity: false }],
    [['--strictaffinity', '1'], 'Successfully set StrictAffinity to: true\n', { strictAffinity: true }],
    [
      ['--strictaffinity=true', '--max-blocks-per-host=2'],
      'Successfully set StrictAffinity to: true\nSuccessfully set MaxBlocksPerHost to: 2\n',
      { strictAffinity: true, maxBlocksPerHost: 2 },
    ],
    [['--ip-cooldown-seconds=30'], 'Successfully set IPCooldownSeconds to: 30\n', { ipCooldownSeconds: 30 }],
    [['--kubevirt-ip-persistence=Disabled'], 'Successfully set KubeVirtVMAddressPersistence to: Disabled\n', { kubeVirtVmAddressPersistence: 'Disabled' }],
  ])('sets only what %p names and says so', async (flags, stdout, request) => {
    const fake = new FakeAllocator();
    const run = await runCtl(['ipam', 'configure', ...flags], fake);
    expect(run).toMatchObject({ code: 0, stdout, stderr: '' });
    expect(fake.callsOf('ipam.setIpamConfig')).toEqual([request]);
  });

  it.each<[string[], string]>([
    [['--strictaffinity=maybe'], 'invalid value. Use true or false to set strictaffinity'],
    [['--max-blocks-per-host=two'], 'invalid value for maxblockhost. Use a valid number'],
    [['--max-blocks-per-host=-1'], 'invalid value for maxblockhost. Use a valid number'],
    [['--ip-cooldown-seconds=1201'], 'invalid value for --ip-cooldown-seconds. Use a number of seconds from 0 to 1200'],
    [['--kubevirt-ip-persistence=enabled'], 'invalid value for --kubevirt-ip-persistence. Use Enabled or Disabled'],
    [[], 'at least one configuration option must be specified'],
  ])('refuses %p before calling the allocator', async (flags, message) => {
    const fake = new FakeAllocator();
    const run = await runCtl(['ipam', 'configure', ...flags], fake);
    expect(run).toMatchObject({ code: 2, stdout: '', stderr: `atollctl: ${message}\n` });
    expect(fake.calls).toEqual([]);
  });

  it("passes on Calico's rule that a block limit needs strict affinity", async () => {
    const run = await runCtl(['ipam', 'configure', '--max-blocks-per-host=4'], new FakeAllocator());
    expect(run).toMatchObject({ code: 1, stdout: '', stderr: 'atollctl: MaxBlocksPerHost requires StrictAffinity to be enabled\n' });
  });
});
