import { formatDuration, parseGoDuration } from '@atoll/model';

// The allocation history's flags (spread into ALLOCATOR_FLAGS).

export const HISTORY_FLAGS = {
  'history-retention': {
    env: 'ATOLL_HISTORY_RETENTION',
    default: '168h',
    help: 'how long allocation history is kept, e.g. 24h, 168h (etcd deletes older events by itself; 0 turns history off)',
  },
  'history-max-records': {
    env: 'ATOLL_HISTORY_MAX_RECORDS',
    default: '200000',
    help: 'most history records (one per allocating transaction) kept; the leak collector deletes the oldest beyond it',
  },
} as const;

export interface HistoryConfig {
  /** 0: no history is recorded. */
  readonly retentionSeconds: number;
  readonly maxRecords: number;
}

export function parseHistoryFlags(get: (flag: keyof typeof HISTORY_FLAGS) => string, error: (message: string) => Error): HistoryConfig {
  const text = get('history-retention');
  const ms = parseGoDuration(text);
  if (ms === undefined) throw error(`--history-retention: expected a duration such as 24h or 168h, got ${JSON.stringify(text)}`);
  if (ms !== 0 && (ms < 1000 || ms % 1000 !== 0)) {
    throw error(`--history-retention: must be 0 or a whole number of seconds of at least 1s, got ${formatDuration(ms)}`);
  }
  const maxText = get('history-max-records');
  const maxRecords = Number(maxText);
  if (!/^\d+$/.test(maxText) || !Number.isSafeInteger(maxRecords) || maxRecords < 1) {
    throw error(`--history-max-records: expected a whole number of at least 1, got ${JSON.stringify(maxText)}`);
  }
  return { retentionSeconds: ms / 1000, maxRecords };
}
