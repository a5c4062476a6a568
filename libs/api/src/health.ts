import { status, type ServerWritableStream, type ServiceError } from '@grpc/grpc-js';
import { HealthCheckRequest, HealthCheckResponse, HealthCheckResponse_ServingStatus, type HealthServer } from './generated/grpc/health/v1/health';

/**
 * The standard grpc.health.v1 service. The overall service is named "" as the protocol
 * says; `set` changes a service's status and notifies watchers.
 */
export class HealthService {
  private readonly statuses = new Map<string, HealthCheckResponse_ServingStatus>();
  private readonly watchers = new Map<string, Set<ServerWritableStream<HealthCheckRequest, HealthCheckResponse>>>();

  set(service: string, serving: boolean): void {
    const s = serving ? HealthCheckResponse_ServingStatus.SERVING : HealthCheckResponse_ServingStatus.NOT_SERVING;
    this.statuses.set(service, s);
    for (const w of this.watchers.get(service) ?? []) w.write({ status: s });
  }

  readonly implementation: HealthServer = {
    check: (call, callback) => {
      const s = this.statuses.get(call.request.service);
      if (s === undefined) callback({ code: status.NOT_FOUND, details: `unknown service ${call.request.service}` } as ServiceError, null);
      else callback(null, { status: s });
    },
    watch: (call) => {
      const name = call.request.service;
      const set = this.watchers.get(name) ?? new Set();
      set.add(call);
      this.watchers.set(name, set);
      call.write({ status: this.statuses.get(name) ?? HealthCheckResponse_ServingStatus.SERVICE_UNKNOWN });
      call.on('cancelled', () => set.delete(call));
    },
  };
}
