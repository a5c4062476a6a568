export * from './generated/atoll/ipam/v1/ipam';
export {
  ApplyRequest,
  DeleteResourceRequest,
  GetResourceRequest,
  ListResourcesRequest,
  ListResourcesResponse,
  ResourceResponse,
  ResourcesClient,
  ResourcesService,
} from './generated/atoll/ipam/v1/resources';
export {
  GetHolderRequest,
  GetHolderResponse,
  HandOffReason,
  HandOffRequest,
  HandOffResponse,
  StaticIpsClient,
  StaticIpsService,
} from './generated/atoll/ipam/v1/static';
export type { StaticIpsServer } from './generated/atoll/ipam/v1/static';
export {
  MigrationClient,
  MigrationService,
  ReadRecordsRequest,
  ReadRecordsResponse,
  RecordWrite,
  StoredRecord,
  WriteRecordsRequest,
  WriteRecordsResponse,
} from './generated/atoll/ipam/v1/migration';
export type { MigrationServer } from './generated/atoll/ipam/v1/migration';
export {
  HealthCheckRequest,
  HealthCheckResponse,
  HealthCheckResponse_ServingStatus,
  HealthClient,
  HealthService as HealthServiceDefinition,
} from './generated/grpc/health/v1/health';
export type { HealthServer } from './generated/grpc/health/v1/health';
export type { ResourcesServer } from './generated/atoll/ipam/v1/resources';
export { HistoryClient, HistoryMoment, HistoryService, Holding, HoldingsAnswer, HoldingsQuery } from './generated/atoll/ipam/v1/history';
export type { HistoryServer } from './generated/atoll/ipam/v1/history';
export { AddressExplanation, AssignmentExplanation, ExplainClient, ExplainService, FamilyExplanation, PoolExplanation } from './generated/atoll/ipam/v1/explain';
export type { ExplainServer } from './generated/atoll/ipam/v1/explain';
export { CniError, CniRequest, CniResponse } from './generated/atoll/agent/v1/agent';
export { connectAllocator } from './client';
export type { AllocatorClientOptions, AllocatorClients, CallOpts, PromiseClient } from './client';
export { CoalescingCalls } from './coalescing-calls';
export type { CoalescingOptions, Settled } from './coalescing-calls';
export { coalesceIpamCalls } from './coalescing-ipam';
export type { CoalescedIpamCalls } from './coalescing-ipam';
export { ERROR_CODE_METADATA, fromCallError, fromServiceError, RETRYABLE_METADATA, RpcError, toCallError, toStatus } from './errors';
export type { CodedError } from './errors';
export { HealthService } from './health';
export { unaryHandlers } from './server';
export type { AsyncHandlers, UnaryHandlers } from './server';
export { startProbeServer } from './probe-server';
export type { MetricsSource, ProbeServer } from './probe-server';
export { channelCredentialsFromFiles, diagnoseConnection, readTlsFiles, serverCredentialsFromFiles, TlsConfigError } from './tls';
export type { ConnectionDiagnosis, PemFile, ServerTlsFiles, TlsFiles, TlsMaterial } from './tls';
