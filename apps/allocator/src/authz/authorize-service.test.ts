import { IpamService, type IpamServer } from '@atoll/api';
import type { ServerUnaryCall, ServiceError } from '@grpc/grpc-js';
import pino from 'pino';
import { Writable } from 'node:stream';
import { authorizeService } from './authorize-service';
import type { AllocationOwners } from './policy';

const owners: AllocationOwners = {
  nodesOfHandle: async (h) => (h === 'theirs' ? ['node-b'] : []),
  ownerOfAddress: async () => ({ allocated: false }),
};

function setup(mtls: boolean) {
  const lines: string[] = [];
  const log = pino({ level: 'info' }, new Writable({ write: (c, _e, cb) => (lines.push(c.toString()), cb()) }));
  const served: string[] = [];
  const refused: string[] = [];
  const handler = (name: string) => (call: ServerUnaryCall<unknown, unknown>, cb: (e: unknown, r: unknown) => void) => {
    served.push(name);
    cb(null, { ok: true });
  };
  const table = { releaseByHandle: handler('releaseByHandle'), check: handler('check') } as unknown as IpamServer;
  const wrapped = authorizeService('Ipam', IpamService, table, { mtls, owners, log, onRefused: (m, c) => refused.push(`${m}:${c}`) });
  const call = (method: 'releaseByHandle' | 'check', request: unknown, subject?: Record<string, string>) =>
    new Promise<{ err: ServiceError | null; res: unknown }>((resolve) => {
      const c = { request, getAuthContext: () => (subject ? { transportSecurityType: 'ssl', sslPeerCertificate: { subject } } : {}) };
      (wrapped[method] as unknown as (c: unknown, cb: (e: ServiceError | null, r: unknown) => void) => void)(c, (err, res) => resolve({ err, res }));
    });
  return { call, served, refused, lines };
}

describe('authorization around a handler table', () => {
  it('runs the handler for a call the table allows', async () => {
    const s = setup(true);
    const r = await s.call('releaseByHandle', { handleId: 'mine' }, { CN: 'alice', O: 'atoll:admins' });
    expect(r).toEqual({ err: null, res: { ok: true } });
    expect(s.served).toEqual(['releaseByHandle']);
  });

  it('answers PERMISSION_DENIED with the stable code without running the handler, and logs who tried what', async () => {
    const s = setup(true);
    const r = await s.call('releaseByHandle', { handleId: 'theirs' }, { CN: 'system:node:node-a' });
    expect(r.err).toMatchObject({ code: 7, details: 'node node-a may not release handle theirs of node node-b' });
    expect(r.err!.metadata!.get('atoll-error-code')).toEqual(['permission-denied']);
    expect(s.served).toEqual([]);
    expect(s.refused).toEqual(['releaseByHandle:permission-denied']);
    expect(JSON.parse(s.lines[0]!)).toMatchObject({ level: 40, method: 'releaseByHandle', identity: 'node node-a', code: 'permission-denied', msg: 'request refused by authorization' });
  });

  it('refuses a call without a verified certificate when mTLS is on', async () => {
    const s = setup(true);
    const r = await s.call('check', {});
    expect(r.err).toMatchObject({ code: 16, details: 'a client certificate is required to call Ipam/Check' });
    expect(s.served).toEqual([]);
  });

  it('treats every caller as admin when mTLS is off', async () => {
    const s = setup(false);
    expect((await s.call('check', {})).err).toBeNull();
    expect((await s.call('releaseByHandle', { handleId: 'theirs' }, { CN: 'system:node:node-a' })).err).toBeNull();
    expect(s.served).toEqual(['check', 'releaseByHandle']);
  });
});
