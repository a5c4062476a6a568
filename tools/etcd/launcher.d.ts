import type { ChildProcess } from 'node:child_process';

export interface EtcdMember {
  name: string;
  clientUrl: string;
  dataDir: string;
  pid: number | undefined;
  child: ChildProcess | undefined;
  start(): ChildProcess;
  kill(): Promise<void>;
  stop(): Promise<void>;
  waitHealthy(timeoutMs?: number): Promise<void>;
}

export interface EtcdCluster {
  endpoints: string[];
  members: EtcdMember[];
  baseDir: string;
  stop(): Promise<void>;
}

export interface StartEtcdOptions {
  members?: number;
  baseDir?: string;
  heartbeatMs?: number;
  electionMs?: number;
  logFile?: string;
  extraArgs?: string[];
  /** Clients over https with client certificate auth; the default is plain http. */
  tls?: EtcdTlsFiles;
}

export interface EtcdTlsFiles {
  /** The members' server certificate (needs SAN IP:127.0.0.1) and key. */
  certFile: string;
  keyFile: string;
  /** CA that clients' certificates must be signed by (and that signed certFile). */
  caFile: string;
  /** The health check's client certificate; certFile/keyFile when omitted. */
  clientCertFile?: string;
  clientKeyFile?: string;
}

export function startEtcdCluster(options?: StartEtcdOptions): Promise<EtcdCluster>;
export function findEtcdBinary(): string;
export function freePort(): Promise<number>;
