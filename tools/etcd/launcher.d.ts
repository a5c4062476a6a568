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
}

export function startEtcdCluster(options?: StartEtcdOptions): Promise<EtcdCluster>;
export function findEtcdBinary(): string;
export function freePort(): Promise<number>;
