export { HISTORY_KINDS, type HistoryAction, type HistoryEvent, type HistoryKind, type RecordedEvent } from './history-event';
export { HANDOFF_CAUSE, historyCause, POOL_DELETION_CAUSE, type AddressChange, type HistoryCause } from './history-cause';
export { DEFAULT_HISTORY_RETENTION_SECONDS, HistoryLog, type HistoryLogOptions } from './history-log';
export { HistoryRecordingDatastore, historyLogOf } from './recording-datastore';
export { pruneHistory, readHistory } from './history-store';
export { holdingsOf, queryHoldings, type HistoryMoment, type Holding, type HoldingQuery } from './holdings';
