import { ConfigError, parseAgentConfig, usage } from './config';

const base = ['--labels', 'zone=a', '--node-name', 'node-a'];

describe('the node agent TLS flags', () => {
  it('talks plaintext to the allocator without them', () => {
    expect(parseAgentConfig(base, {}, '/p')).not.toHaveProperty('allocatorTls');
  });

  it('takes the CA, certificate and key from flags or ATOLL_* variables', () => {
    const env = { ATOLL_ALLOCATOR_CA_FILE: '/env/ca.crt', ATOLL_TLS_CERT_FILE: '/env/node.pem', ATOLL_TLS_KEY_FILE: '/env/node.pem' };
    expect(parseAgentConfig(base, env, '/p')).toMatchObject({ allocatorTls: { caFile: '/env/ca.crt', certFile: '/env/node.pem', keyFile: '/env/node.pem' } });
    expect(parseAgentConfig([...base, '--allocator-ca-file', '/f/ca.crt'], env, '/p')).toMatchObject({ allocatorTls: { caFile: '/f/ca.crt' } });
  });

  it('accepts a CA alone (TLS without a client certificate)', () => {
    expect(parseAgentConfig([...base, '--allocator-ca-file', '/ca.crt'], {}, '/p')).toMatchObject({ allocatorTls: { caFile: '/ca.crt' } });
  });

  it.each([[['--tls-cert-file', '/c']], [['--tls-key-file', '/k']]])('refuses %j without its pair, naming both flags', (extra) => {
    expect(() => parseAgentConfig([...base, ...extra], {}, '/p')).toThrow(new ConfigError('--tls-cert-file and --tls-key-file must be given together'));
  });

  it('lists the flags with their variables in the usage', () => {
    expect(usage()).toMatch(/--allocator-ca-file .*\(env ATOLL_ALLOCATOR_CA_FILE\)/);
    expect(usage()).toMatch(/--tls-cert-file .*\(env ATOLL_TLS_CERT_FILE\)/);
    expect(usage()).toMatch(/--tls-key-file .*\(env ATOLL_TLS_KEY_FILE\)/);
  });
});
