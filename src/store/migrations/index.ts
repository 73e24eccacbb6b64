/**
 * The ordered list of schema migrations. Each later feature appends its own file here;
 * a migration, once released, never changes.
 *
 * @module
 */
import type { Migration } from 'kysely';
import type { DialectName } from '../dialect.js';
import { eventLogMigration } from './0001-event-log.js';
import { dataKeysMigration } from './0002-data-keys.js';
import { projectionsMigration } from './0003-projections.js';
import { signingKeysMigration } from './0004-signing-keys.js';
import { securityEventsMigration } from './0005-security-events.js';
import { auditAnchorsMigration } from './0006-audit-anchors.js';
import { prunedEventsMigration } from './0007-pruned-events.js';
import { anchorKeyResealMigration } from './0008-anchor-key-reseal.js';

/** A named migration factory; names sort in the order they apply. */
export interface NamedMigration {
  readonly name: string;
  readonly migration: (dialect: DialectName) => Migration;
}

/** Every migration the store knows, in order. */
export const STORE_MIGRATIONS: readonly NamedMigration[] = [
  { name: '0001-event-log', migration: eventLogMigration },
  { name: '0002-data-keys', migration: dataKeysMigration },
  { name: '0003-projections', migration: projectionsMigration },
  { name: '0004-signing-keys', migration: signingKeysMigration },
  { name: '0005-security-events', migration: securityEventsMigration },
  { name: '0006-audit-anchors', migration: auditAnchorsMigration },
  { name: '0007-pruned-events', migration: prunedEventsMigration },
  { name: '0008-anchor-key-reseal', migration: anchorKeyResealMigration },
];
