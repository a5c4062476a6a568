import { runAtollctl } from '../run';
import { FakeAllocator, memoryIo, runCtl } from '../testing/fake-allocator';
import { isLoopback, parseListen } from './ipam-ui';

describe('ipam ui', () => {
  it.each([
    ['127.0.0.1:8080', { host: '127.0.0.1', port: 8080 }],
    ['[::1]:0', { host: '::1', port: 0 }],
    ['localhost:9000', { host: 'localhost', port: 9000 }],
    ['0.0.0.0:80', { host: '0.0.0.0', port: 80 }],
  ])('reads --listen %s', (text, want) => {
    expect(parseListen(text)).toEqual(want);
  });

  it.each(['8080', '127.0.0.1', '127.0.0.1:99999', 'example.com:80', '[::1]', ':8080'])('refuses --listen %s', (text) => {
    expect(() => parseListen(text)).toThrow(`flag --listen needs an IP address and port, e.g. 127.0.0.1:8080 or [::1]:8080, got ${JSON.stringify(text)}`);
  });

  it.each([
    ['127.0.0.1', true],
    ['127.3.2.1', true],
    ['::1', true],
    ['localhost', true],
    ['0.0.0.0', false],
    ['::', false],
    ['10.0.0.1', false],
  ])('treats %s as loopback: %s', (host, want) => {
    expect(isLoopback(host)).toBe(want);
  });

  it('refuses a non-loopback address without --insecure-listen, before asking the allocator anything', async () => {
    const fake = new FakeAllocator();
    const r = await runCtl(['ipam', 'ui', '--listen', '0.0.0.0:0'], fake);
    expect(r).toMatchObject({
      code: 2,
      stdout: '',
      stderr: "atollctl: flag --listen: 0.0.0.0 is not a loopback address and the page shows pod names; add --insecure-listen to serve it anyway; see 'atollctl ipam ui --help'\n",
    });
    expect(fake.calls).toEqual([]);
  });

  it('names a bad --listen as a usage error', async () => {
    const r = await runCtl(['ipam', 'ui', '--listen=nowhere'], new FakeAllocator());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^atollctl: flag --listen needs an IP address and port/);
  });

  it('is listed in the ipam help with its flags', async () => {
    expect((await runCtl(['ipam', '--help'], new FakeAllocator())).stdout).toContain('    ui         Serve a live map of the address space to a browser.');
    const help = (await runCtl(['ipam', 'ui', '--help'], new FakeAllocator())).stdout;
    expect(help).toContain('atollctl ipam ui [--listen=<HOST:PORT>] [--insecure-listen] [--open]');
  });
});

describe('ipam ui serving', () => {
  it('prints where it serves, survives a missing xdg-open, answers until stopped, then exits 0', async () => {
    let stop: (signal: string) => void = () => undefined;
    const stopped = new Promise<string>((resolve) => (stop = resolve));
    const fake = new FakeAllocator();
    let stdout = '';
    let stderr = '';
    const opened: string[] = [];
    const io = {
      ...memoryIo(),
      out: (text: string) => {
        stdout += text;
      },
      untilStopped: () => stopped,
      openUrl: async (url: string) => {
        opened.push(url);
        return false;
      },
    };
    const run = runAtollctl(['ipam', 'ui', '--listen', '127.0.0.1:0', '--open', '--allocator', '10.9.9.9:7443'], {
      io,
      err: (text) => void (stderr += text),
      env: {},
      connect: () => fake,
    });
    for (let i = 0; i < 100 && !stdout.includes('Could not open'); i++) await new Promise((r) => setTimeout(r, 10));
    const url = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout)![1]!;
    expect(stdout).toBe(`Serving the IPAM map of 10.9.9.9:7443 at ${url} (interrupt to stop)\nCould not open a browser; open ${url} yourself.\n`);
    expect(opened).toEqual([url]);
    expect((await fetch(`${url}api/snapshot`)).status).toBe(200);
    stop('SIGINT');
    expect(await run).toBe(0);
    expect(stderr).toBe('');
    expect(fake.closed).toBe(true);
    await expect(fetch(url)).rejects.toThrow();
  });
});
