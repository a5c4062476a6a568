import path from 'node:path';
import { kubeconfigPath, loadKubeAccess } from './kubeconfig';

const files = (map: Record<string, string>) => ({
  env: {},
  readFile: async (p: string) => {
    if (!(p in map)) throw new Error(`ENOENT: no such file, open '${p}'`);
    return map[p]!;
  },
});

const CONFIG = (user: string, cluster = 'server: https://10.0.0.1:6443\n    certificate-authority: ca.crt') => `apiVersion: v1
kind: Config
current-context: ctx
contexts:
- name: ctx
  context: {cluster: c, user: u}
clusters:
- name: c
  cluster:
    ${cluster}
users:
- name: u
  user:
${user}
`;

describe('finding and reading a kubeconfig as kubectl does', () => {
  it('takes the flag, else the first file of $KUBECONFIG, else ~/.kube/config', () => {
    expect(kubeconfigPath('/a', { KUBECONFIG: '/b', HOME: '/h' })).toBe('/a');
    expect(kubeconfigPath(undefined, { KUBECONFIG: `/b${path.delimiter}/c`, HOME: '/h' })).toBe('/b');
    expect(kubeconfigPath(undefined, { HOME: '/h' })).toBe('/h/.kube/config');
  });

  it('reads a token file and the CA relative to the kubeconfig', async () => {
    const access = await loadKubeAccess('/k/config', files({ '/k/config': CONFIG('    tokenFile: token'), '/k/token': 'abc\n', '/k/ca.crt': 'CA PEM' }));
    expect(access).toEqual({ server: 'https://10.0.0.1:6443', token: 'abc', ca: 'CA PEM', insecureSkipTlsVerify: false, source: '/k/config' });
  });

  it('reads an embedded client certificate and key', async () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const access = await loadKubeAccess('/k/config', files({ '/k/config': CONFIG(`    client-certificate-data: ${b64('CERT')}\n    client-key-data: ${b64('KEY')}`, 'server: https://h:6443\n    insecure-skip-tls-verify: true') }));
    expect(access).toMatchObject({ cert: 'CERT', key: 'KEY', insecureSkipTlsVerify: true });
  });

  it.each([
    ['an exec plugin', CONFIG('    exec: {command: aws}'), 'authenticates with an exec plugin or auth provider, which atollctl does not run'],
    ['no current context', 'apiVersion: v1\nkind: Config\n', 'kubeconfig /k/config has no current-context'],
    ['a missing user', CONFIG('    token: t').replace('user: u}', 'user: nobody}'), 'kubeconfig /k/config: no user named "nobody"'],
    ['broken YAML', 'current-context: [', 'kubeconfig /k/config is not valid YAML'],
  ])('refuses %s with a clear error', async (_what, text, message) => {
    await expect(loadKubeAccess('/k/config', files({ '/k/config': text, '/k/ca.crt': 'CA' }))).rejects.toThrow(message);
  });
});
