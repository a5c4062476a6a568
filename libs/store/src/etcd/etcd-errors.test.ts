import {
  ClientClosedError,
  EtcdError,
  EtcdPermissionDeniedError,
  GRPCCancelledError,
  GRPCDeadlineExceededError,
  GRPCInternalError,
  GRPCInvalidArgumentError,
  GRPCUnavailableError,
} from 'etcd3';
import { StoreClosedError, StoreConflictError, StoreUnavailableError } from '../errors';
import { toStoreError } from './etcd-errors';

describe('toStoreError', () => {
  it.each([
    ['an unreachable member (UNAVAILABLE)', new GRPCUnavailableError('14 UNAVAILABLE'), 'unavailable', true],
    ['a deadline that passed (DEADLINE_EXCEEDED)', new GRPCDeadlineExceededError('4 DEADLINE_EXCEEDED'), 'unavailable', true],
    ['a cancelled call', new GRPCCancelledError('1 CANCELLED'), 'unavailable', true],
    ['an internal server error', new GRPCInternalError('13 INTERNAL'), 'unavailable', true],
    ['a closed client', new ClientClosedError('KV'), 'closed', false],
    ['a rejected argument', new GRPCInvalidArgumentError('3 INVALID_ARGUMENT'), 'internal', false],
    ['a permission error', new EtcdPermissionDeniedError('etcdserver: permission denied'), 'internal', false],
    // Message text is irrelevant: an application error that mentions "unavailable" stays internal.
    ['an etcd error whose message says unavailable', new EtcdError('etcdserver: unavailable'), 'internal', false],
    ['something that is not an Error', 'boom', 'internal', false],
  ])('classifies %s by its type', (_name, thrown, code, retryable) => {
    const error = toStoreError(thrown, 'get');
    expect(error.code).toBe(code);
    expect(error.retryable).toBe(retryable);
  });

  it('keeps the etcd3 error as the cause', () => {
    const thrown = new GRPCUnavailableError('14 UNAVAILABLE');
    const error = toStoreError(thrown, 'commit');
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error.cause).toBe(thrown);
  });

  it.each([new StoreConflictError(new Map()), new StoreClosedError()])('passes a %p through unchanged', (thrown) => {
    expect(toStoreError(thrown, 'commit')).toBe(thrown);
  });
});
