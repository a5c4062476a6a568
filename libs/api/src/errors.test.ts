import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { ERROR_CODE_METADATA, fromServiceError, RETRYABLE_METADATA } from './errors';

// How a failed call is classified on the client: by the allocator's own code when it sent
// one, else by the gRPC status the transport produced.

function serviceError(code: status, details: string, atoll?: { code: string; retryable: boolean }): ServiceError {
  const metadata = new Metadata();
  if (atoll) {
    metadata.set(ERROR_CODE_METADATA, atoll.code);
    metadata.set(RETRYABLE_METADATA, String(atoll.retryable));
  }
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata });
}

describe('fromServiceError', () => {
  it('keeps the allocator\'s own code and retryability', () => {
    expect(fromServiceError(serviceError(status.INTERNAL, 'boom', { code: 'internal', retryable: false }))).toMatchObject({ code: 'internal', retryable: false });
    expect(fromServiceError(serviceError(status.UNAVAILABLE, 'etcd down', { code: 'unavailable', retryable: true }))).toMatchObject({ code: 'unavailable', retryable: true });
  });

  it.each([
    ['a connection refused', status.UNAVAILABLE, 'No connection established', 'unavailable', true],
    ['a deadline', status.DEADLINE_EXCEEDED, 'Deadline exceeded', 'unavailable', true],
    // recorded in a chaos run when an agent's link to its allocator healed after losing bytes
    ['a session broken under the call', status.INTERNAL, 'Received RST_STREAM with code 2 triggered by internal client error: Session closed with error code 2', 'unavailable', true],
    ['an oversized message', status.RESOURCE_EXHAUSTED, 'Received message larger than max', 'invalid-argument', false],
    ['an unknown method', status.UNIMPLEMENTED, 'The server does not implement the method', 'internal', false],
  ])('classifies %s without an Atoll code', (_name, code, details, expected, retryable) => {
    expect(fromServiceError(serviceError(code, details))).toMatchObject({ code: expected, retryable, grpcCode: code, message: details });
  });
});
