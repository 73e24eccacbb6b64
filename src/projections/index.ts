/**
 * The engine's read views, each rebuildable from the log (docs/models.md).
 *
 * @module
 */
import type { Projection } from '../store/types.js';
import { clientCodesProjection } from './client-codes.js';
import { clientsProjection } from './clients.js';
import { grantsProjection } from './grants.js';
import { jtiMappingsProjection } from './jti-mappings.js';
import { refreshTokensProjection } from './refresh-tokens.js';
import { transactionsProjection } from './transactions.js';
import { upstreamTokenSetsProjection } from './upstream-token-sets.js';

/** Every projection, in the order they apply. */
export const PROJECTIONS: readonly Projection[] = [
  clientsProjection,
  transactionsProjection,
  clientCodesProjection,
  upstreamTokenSetsProjection,
  grantsProjection,
  jtiMappingsProjection,
  refreshTokensProjection,
];

export * from './clients.js';
export * from './transactions.js';
export * from './client-codes.js';
export * from './upstream-token-sets.js';
export * from './grants.js';
export * from './jti-mappings.js';
export * from './refresh-tokens.js';
