import {
  StoreClosedError,
  StoreCompactedError,
  StoreConflictError,
  StoreError,
  StoreInvalidRequestError,
  StoreUnavailableError,
} from './errors';

describe('store errors', () => {
  it.each([
    ['a conflict', new StoreConflictError(new Map()), 'conflict', true],
    ['an unavailable datastore', new StoreUnavailableError('down'), 'unavailable', true],
    ['compacted history', new StoreCompactedError(7n), 'compacted', false],
    ['an invalid request', new StoreInvalidRequestError('bad'), 'invalid-request', false],
    ['a closed store', new StoreClosedError(), 'closed', false],
  ])('mark %s with a stable code and whether a retry can help', (_name, error, code, retryable) => {
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe(code);
    expect(error.retryable).toBe(retryable);
    expect(error.name).toBe(error.constructor.name);
  });

  it('keep the underlying error as the cause', () => {
    const cause = new Error('socket closed');
    expect(new StoreUnavailableError('etcd unreachable', cause).cause).toBe(cause);
  });
});
