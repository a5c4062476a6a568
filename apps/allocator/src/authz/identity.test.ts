import type { PeerCertificate } from 'node:tls';
import { describeIdentity, identityOf } from './identity';

const cert = (subject: Record<string, string | string[]>) => ({ subject } as unknown as PeerCertificate);

describe('the identity of a client certificate', () => {
  it.each<[string, PeerCertificate | undefined, string]>([
    ["names a node by kubelet's CN system:node:<name>", cert({ CN: 'system:node:node-a', O: 'system:nodes' }), 'node node-a'],
    ['names a node by CN system:node:<name> with O=atoll:nodes', cert({ CN: 'system:node:node-a', O: 'atoll:nodes' }), 'node node-a'],
    ['names a node by O=atoll:nodes and its plain CN', cert({ CN: 'node-b.example', O: 'atoll:nodes' }), 'node node-b.example'],
    ['finds atoll:nodes among several organizations', cert({ CN: 'node-c', O: ['other', 'atoll:nodes'] }), 'node node-c'],
    ['names an admin by O=atoll:admins, whatever the CN', cert({ CN: 'alice', O: 'atoll:admins' }), 'admin alice'],
    ['lets O=atoll:admins win over a node CN', cert({ CN: 'system:node:node-a', O: 'atoll:admins' }), 'admin system:node:node-a'],
    ['does not recognise a plain CN without an organization', cert({ CN: 'node-a' }), 'the client CN=node-a'],
    ['does not recognise a node name that is not a lower-case DNS name', cert({ CN: 'system:node:Node_A' }), 'the client CN=system:node:Node_A'],
    ['does not recognise an empty node name', cert({ CN: 'system:node:' }), 'the client CN=system:node:'],
    ['does not recognise a certificate with two CNs', cert({ CN: ['node-a', 'node-b'], O: 'atoll:nodes' }), 'the client CN=node-a, CN=node-b, O=atoll:nodes'],
    ['treats a missing certificate as anonymous', undefined, 'a client without a certificate'],
  ])('%s', (_sentence, c, expected) => {
    expect(describeIdentity(identityOf(c))).toBe(expected);
  });
});
