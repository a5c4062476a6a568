import { noop } from 'cockatiel';
import type { CallOptionsFactory } from 'etcd3';
import { StoreInvalidRequestError } from '../errors';
import { EtcdDatastore } from './etcd-datastore';
import { buildEtcdClientOptions, DEFAULT_REQUEST_TIMEOUT_MS, type EtcdDatastoreOptions, type EtcdTlsOptions } from './etcd-client-options';

const ca = Buffer.from('-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n');
const cert = Buffer.from('-----BEGIN CERTIFICATE-----\nclient\n-----END CERTIFICATE-----\n');
const key = Buffer.from('-----BEGIN PRIVATE KEY-----\nkey\n-----END PRIVATE KEY-----\n');
const https = ['https://etcd-0:2379', 'https://etcd-1:2379'];

type CallContext = Parameters<Extract<CallOptionsFactory, (...args: never[]) => unknown>>[0];

function callOptionsFor(factory: CallOptionsFactory | undefined, isStream: boolean) {
  if (typeof factory !== 'function') throw new Error('expected a call options factory');
  const context = isStream
    ? { service: 'Watch', method: 'watch', isStream: true, params: undefined }
    : { service: 'KV', method: 'range', isStream: false, params: {} };
  return factory(context as CallContext);
}

describe('buildEtcdClientOptions', () => {
  it.each<[string, EtcdTlsOptions, object]>([
    ['passes CA, client certificate and key to etcd3 unchanged', { ca, cert, key }, { rootCertificate: ca, certChain: cert, privateKey: key }],
    ['passes a CA alone for server-only TLS', { ca }, { rootCertificate: ca }],
    ['passes a client certificate without a CA (system roots)', { cert, key }, { rootCertificate: undefined, certChain: cert, privateKey: key }],
  ])('%s', (_name, tls, credentials) => {
    const options = buildEtcdClientOptions({ endpoints: https, tls });
    expect(options.credentials).toEqual(credentials);
    expect(options.credentials?.rootCertificate).toBe(tls.ca);
  });

  it('sets no credentials for plain http endpoints', () => {
    expect(buildEtcdClientOptions({ endpoints: ['http://127.0.0.1:2379'] }).credentials).toBeUndefined();
  });

  it.each<[string, EtcdDatastoreOptions]>([
    ['a client certificate without its key', { endpoints: https, tls: { ca, cert } }],
    ['a client key without its certificate', { endpoints: https, tls: { ca, key } }],
    ['TLS options with http endpoints', { endpoints: ['http://etcd-0:2379'], tls: { ca } }],
    ['a mix of http and https endpoints', { endpoints: ['http://etcd-0:2379', 'https://etcd-1:2379'] }],
    ['no endpoints at all', { endpoints: [] }],
    ['a zero request timeout', { endpoints: https, requestTimeoutMs: 0 }],
    ['a negative request timeout', { endpoints: https, requestTimeoutMs: -5 }],
  ])('rejects %s', (_name, options) => {
    expect(() => buildEtcdClientOptions(options)).toThrow(StoreInvalidRequestError);
  });

  it.each([0, -1, Number.NaN])('refuses a list timeout of %s ms', (ms) => {
    expect(() => new EtcdDatastore({ endpoints: ['http://127.0.0.1:2379'], listTimeoutMs: ms })).toThrow(
      new StoreInvalidRequestError(`listTimeoutMs must be a positive number of milliseconds, got ${ms}`),
    );
  });

  it('copies the endpoints so later changes by the caller have no effect', () => {
    const endpoints = ['http://127.0.0.1:2379'];
    const options = buildEtcdClientOptions({ endpoints });
    endpoints.push('http://127.0.0.1:2380');
    expect(options.hosts).toEqual(['http://127.0.0.1:2379']);
  });

  it('uses no per-host circuit breaker', () => {
    const options = buildEtcdClientOptions({ endpoints: https });
    expect(options.faultHandling?.host?.('etcd-0:2379')).toBe(noop);
    expect(options.faultHandling?.global).toBeDefined();
    expect(options.faultHandling?.watchBackoff?.duration).toBeGreaterThan(0);
  });

  it.each([
    ['the default', undefined, DEFAULT_REQUEST_TIMEOUT_MS],
    ['a configured', 1500, 1500],
  ])('gives unary calls %s deadline and streams none', (_name, requestTimeoutMs, expected) => {
    const options = buildEtcdClientOptions({ endpoints: https, requestTimeoutMs });
    const before = Date.now();
    const unary = callOptionsFor(options.defaultCallOptions, false);
    expect(Number(unary.deadline) - before).toBeGreaterThanOrEqual(expected);
    expect(Number(unary.deadline) - before).toBeLessThan(expected + 1000);
    expect(callOptionsFor(options.defaultCallOptions, true)).toEqual({});
  });
});
