import { ConfigError, parseAllocatorConfig, usage } from './config';

describe('the allocator TLS flags', () => {
  it('keeps plaintext on loopback without TLS flags', () => {
    const c = parseAllocatorConfig([], {});
    expect(c).not.toHaveProperty('tls');
    expect(c).not.toHaveProperty('etcdTls');
  });

  it('reads mTLS and etcd TLS paths from flags and ATOLL_* variables', () => {
    const env = { ATOLL_TLS_CERT_FILE: '/env/tls.crt', ATOLL_TLS_KEY_FILE: '/env/tls.key', ATOLL_TLS_CLIENT_CA_FILE: '/env/ca.crt', ATOLL_ETCD_ENDPOINTS: 'https://10.0.0.1:2379' };
    expect(parseAllocatorConfig(['--listen', '0.0.0.0:7443', '--etcd-ca-file', '/e/ca.crt', '--etcd-cert-file', '/e/c.crt', '--etcd-key-file', '/e/c.key', '--tls-cert-file', '/f/tls.crt'], env)).toMatchObject({
      listen: '0.0.0.0:7443',
      tls: { certFile: '/f/tls.crt', keyFile: '/env/tls.key', clientCaFile: '/env/ca.crt' },
      etcdTls: { caFile: '/e/ca.crt', certFile: '/e/c.crt', keyFile: '/e/c.key' },
    });
  });

  it('lets TLS without a client CA serve on loopback (every caller is admin)', () => {
    expect(parseAllocatorConfig(['--tls-cert-file', '/a', '--tls-key-file', '/b'], {})).toMatchObject({ tls: { certFile: '/a', keyFile: '/b' } });
  });

  it.each([
    ['--insecure', ['--listen', '0.0.0.0:7443', '--insecure'], {}],
    ['ATOLL_INSECURE=true', ['--listen', '10.0.0.5:7443'], { ATOLL_INSECURE: 'true' }],
  ])('listens on a non-loopback address without mTLS only with %s', (_how, argv, env) => {
    expect(parseAllocatorConfig(argv, env)).toMatchObject({ listen: argv[1] });
  });

  it.each([
    ['127.0.0.1:7443'],
    ['127.1.2.3:7443'],
    ['[::1]:7443'],
    ['localhost:7443'],
  ])('counts %s as loopback', (listen) => {
    expect(parseAllocatorConfig(['--listen', listen], {})).toMatchObject({ listen });
  });

  it.each<[string[], Record<string, string>, string]>([
    [['--listen', '0.0.0.0:7443'], {}, '--listen 0.0.0.0:7443 is not a loopback address and mTLS is off: every caller would be an admin. Pass --tls-cert-file, --tls-key-file and --tls-client-ca-file, or --insecure to listen there anyway'],
    [['--listen', '0.0.0.0:7443', '--tls-cert-file', '/a', '--tls-key-file', '/b'], {}, '--listen 0.0.0.0:7443 is not a loopback address and mTLS is off'],
    [['--tls-cert-file', '/a'], {}, '--tls-cert-file and --tls-key-file must be given together'],
    [['--tls-key-file', '/a'], {}, '--tls-cert-file and --tls-key-file must be given together'],
    [['--tls-client-ca-file', '/ca'], {}, '--tls-client-ca-file needs --tls-cert-file and --tls-key-file (mTLS runs over TLS)'],
    [['--etcd-cert-file', '/c'], { ATOLL_ETCD_ENDPOINTS: 'https://e:2379' }, '--etcd-cert-file and --etcd-key-file must be given together'],
    [['--etcd-ca-file', '/ca'], {}, '--etcd-endpoints: "http://127.0.0.1:2379" is not https://, but etcd TLS files were given'],
  ])('refuses %j with one line naming the flag', (argv, env, message) => {
    expect(() => parseAllocatorConfig(argv, env)).toThrow(ConfigError);
    expect(() => parseAllocatorConfig(argv, env)).toThrow(message);
  });

  it('lists every TLS flag with its environment variable in the usage', () => {
    for (const [flag, env] of [
      ['--tls-cert-file', 'ATOLL_TLS_CERT_FILE'],
      ['--tls-key-file', 'ATOLL_TLS_KEY_FILE'],
      ['--tls-client-ca-file', 'ATOLL_TLS_CLIENT_CA_FILE'],
      ['--etcd-ca-file', 'ATOLL_ETCD_CA_FILE'],
      ['--etcd-cert-file', 'ATOLL_ETCD_CERT_FILE'],
      ['--etcd-key-file', 'ATOLL_ETCD_KEY_FILE'],
      ['--insecure', 'ATOLL_INSECURE'],
    ]) {
      expect(usage()).toMatch(new RegExp(`${flag} .*\\(env ${env}`));
    }
  });
});
