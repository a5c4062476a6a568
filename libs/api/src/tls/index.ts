export { channelCredentialsFromFiles, serverCredentialsFromFiles } from './credentials';
export type { ServerTlsFiles } from './credentials';
export { diagnoseConnection } from './diagnose';
export type { ConnectionDiagnosis } from './diagnose';
export { readTlsFiles, TlsConfigError } from './pem-files';
export type { PemFile, TlsFiles, TlsMaterial } from './pem-files';
