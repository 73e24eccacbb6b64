/**
 * The audit: hash chains, machine re-fold, security invariants, projection diff and signed
 * anchors over the event log (docs/audit.md).
 *
 * @module
 */
export { runAudit, type AuditOptions, type AuditReport, type CreatedAnchor } from './audit.js';
export {
  ANCHOR_TYP,
  HEADS_INLINE_MAX,
  AnchorVerificationError,
  anchorJwksOf,
  readAnchorFile,
  verifyAnchor,
  type Anchor,
  type AnchorPayload,
  type AuditAnchorsTable,
} from './anchors.js';
export { terminalProgress, type ProgressStream } from './progress.js';
export type { Notice } from './global-pass.js';
export type { ProjectionDiffResult, TableDiff } from './projection-diff.js';
export { LOG, SILENT, type AuditChecks, type AuditProgress, type Finding, type FindingKind, type FindingsSummary } from './types.js';
