export { explainAutoAssign, type AddressExplanation, type AssignmentExplanation, type BlockChoice, type ExplainDeps, type FamilyExplanation, type PoolExplanation, type PoolVerdict } from './explain-auto-assign';
export { SandboxDatastore } from './sandbox-datastore';
