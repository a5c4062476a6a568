import { TlsConfigError, type ConnectionDiagnosis, type TlsFiles } from '@atoll/api';
import { runAtollctl } from './run';
import { FakeAllocator, memoryIo } from './testing/fake-allocator';

// atollctl's TLS flags: where they are taken from, and the one line a failed handshake
// becomes (the diagnosis comes from @atoll/api's transport probe, faked here).

async function run(argv: string[], opts: { env?: Record<string, string>; fake?: FakeAllocator; diagnosis?: ConnectionDiagnosis; connectFails?: Error } = {}) {
  const fake = opts.fake ?? new FakeAllocator();
  const io = memoryIo();
  let stderr = '';
  const tls: (TlsFiles | undefined)[] = [];
  const code = await runAtollctl(argv, {
    io,
    err: (t) => void (stderr += t),
    env: opts.env ?? {},
    connect: (_address, files) => {
      tls.push(files);
      if (opts.connectFails) throw opts.connectFails;
      return Object.assign(fake, opts.diagnosis ? { diagnose: async () => opts.diagnosis! } : {});
    },
  });
  return { code, stdout: io.stdout, stderr, tls };
}

const ca = { flag: '--allocator-ca-file', path: '/etc/atoll/ca.crt' };
const cert = { flag: '--cert-file', path: '/etc/atoll/admin.crt' };
const key = { flag: '--key-file', path: '/etc/atoll/admin.key' };

describe('atollctl TLS flags', () => {
  it.each<[string, string[], Record<string, string>, TlsFiles | undefined]>([
    ['no TLS without the flags', ['get', 'ippools'], {}, undefined],
    ['the three flags before the command', ['--allocator-ca-file', ca.path, '--cert-file', cert.path, '--key-file', key.path, 'get', 'ippools'], {}, { ca, cert, key }],
    ['the flags with = after the command', ['get', 'ippools', `--allocator-ca-file=${ca.path}`, `--cert-file=${cert.path}`, `--key-file=${key.path}`], {}, { ca, cert, key }],
    ['the flags between ipam and its command', ['ipam', '--allocator-ca-file', ca.path, 'show'], {}, { ca }],
    [
      'the ATOLL_* variables, named as such',
      ['get', 'ippools'],
      { ATOLL_ALLOCATOR_CA_FILE: ca.path, ATOLL_CERT_FILE: cert.path, ATOLL_KEY_FILE: key.path },
      { ca: { flag: '$ATOLL_ALLOCATOR_CA_FILE', path: ca.path }, cert: { flag: '$ATOLL_CERT_FILE', path: cert.path }, key: { flag: '$ATOLL_KEY_FILE', path: key.path } },
    ],
    ['a flag over its variable', ['get', 'ippools', '--cert-file', '/mine.crt'], { ATOLL_CERT_FILE: cert.path, ATOLL_KEY_FILE: key.path }, { cert: { flag: '--cert-file', path: '/mine.crt' }, key: { flag: '$ATOLL_KEY_FILE', path: key.path } }],
  ])('connects with %s', async (_title, argv, env, expected) => {
    const r = await run(argv, { env });
    expect(r.code).toBe(0);
    expect(r.tls).toEqual([expected]);
  });

  it('says a TLS file it cannot use in one line naming the flag, exit code 1', async () => {
    const r = await run(['get', 'ippools', '--cert-file', '/nope.crt', '--key-file', '/nope.key'], { connectFails: new TlsConfigError('--cert-file', '--cert-file: cannot read "/nope.crt": no such file') });
    expect(r).toMatchObject({ code: 1, stdout: '', stderr: 'atollctl: --cert-file: cannot read "/nope.crt": no such file\n' });
  });

  it('refuses an empty TLS flag as a usage error', async () => {
    expect(await run(['get', 'ippools', '--cert-file='])).toMatchObject({ code: 2, stderr: 'atollctl: flag --cert-file needs a file path\n' });
  });

  it.each<[string, ConnectionDiagnosis, string[], string]>([
    ['a missing client certificate', { kind: 'client-certificate-required' }, ['--allocator-ca-file', ca.path], 'the allocator at 127.0.0.1:7443 requires a client certificate; pass --cert-file and --key-file'],
    ['a refused client certificate', { kind: 'client-certificate-refused' }, ['--allocator-ca-file', ca.path, '--cert-file', cert.path, '--key-file', key.path], 'the allocator at 127.0.0.1:7443 refused the client certificate "/etc/atoll/admin.crt": it is not signed by a CA the allocator trusts'],
    ['a refusal without a certificate as a missing one', { kind: 'client-certificate-refused' }, ['--allocator-ca-file', ca.path], 'the allocator at 127.0.0.1:7443 requires a client certificate; pass --cert-file and --key-file'],
    ['an untrusted allocator', { kind: 'untrusted-server', detail: 'self-signed certificate in certificate chain' }, ['--allocator-ca-file', ca.path], 'cannot verify the allocator at 127.0.0.1:7443: self-signed certificate in certificate chain; give the CA that signed its certificate with --allocator-ca-file'],
    ['plaintext against TLS', { kind: 'requires-tls' }, [], 'the allocator at 127.0.0.1:7443 closed the connection without answering: it requires TLS; pass --allocator-ca-file, --cert-file and --key-file'],
    ['TLS against plaintext', { kind: 'not-tls' }, ['--allocator-ca-file', ca.path], 'the allocator at 127.0.0.1:7443 does not speak TLS; drop --allocator-ca-file, --cert-file and --key-file'],
    ['nothing listening, as before', { kind: 'unreachable', detail: 'ECONNREFUSED' }, [], 'cannot reach the allocator at 127.0.0.1:7443: No connection established. Last error: connect ECONNREFUSED 127.0.0.1:7443'],
  ])('turns %s into one line', async (_what, diagnosis, flags, line) => {
    const fake = new FakeAllocator();
    fake.unreachable = true;
    const r = await run(['get', 'ippools', ...flags], { fake, diagnosis });
    expect(r).toMatchObject({ code: 1, stdout: '', stderr: `atollctl: ${line}\n` });
  });

  it('names the TLS flags in the help', async () => {
    const r = await run(['--help']);
    for (const flag of ['--allocator-ca-file', '--cert-file', '--key-file', '$ATOLL_ALLOCATOR_CA_FILE', '$ATOLL_CERT_FILE', '$ATOLL_KEY_FILE']) expect(r.stdout).toContain(flag);
  });
});
