/**
 * `flowgate clients list|show|delete`: the registered clients (fastmcp's ProxyDCRClient,
 * RFC 7591 §3.2.1 metadata) from the `clients` projection. Deleting a client also revokes
 * every live grant it holds, so its access tokens stop working at the next request.
 *
 * @module
 */
import { Option, type Command } from 'commander';
import { FlowgateError } from '../../errors/flowgate-error.js';
import { findClient, listClients, type ClientRecord } from '../../projections/clients.js';
import { listGrants } from '../../projections/grants.js';
import { withOperatorEngine, type ConfigOptions } from '../operator-engine.js';
import { isoOrNull, say, sayJson, textTable, when, type Column } from '../table.js';
import { configOption } from './options.js';
import { revokeGrants } from './grants.js';

const STATUSES = ['active', 'expired', 'deleted'] as const;

const CLIENT_COLUMNS: ReadonlyArray<Column<ClientRecord>> = [
  ['CLIENT ID', (c) => c.clientId],
  ['KIND', (c) => c.kind],
  ['NAME', (c) => c.metadata.client_name ?? '-'],
  ['AUTH', (c) => c.metadata.token_endpoint_auth_method],
  ['STATUS', (c) => c.status],
  ['REGISTERED', (c) => when(c.registeredAt)],
  ['LAST USED', (c) => when(c.lastUsedAt)],
  ['REDIRECT URIS', (c) => c.metadata.redirect_uris.join(' ')],
];

/** A client for scripts: its metadata as registered, never a secret (only whether it has one). */
export function clientJson(client: ClientRecord): Record<string, unknown> {
  return {
    clientId: client.clientId,
    kind: client.kind,
    status: client.status,
    confidential: client.secretHash !== null,
    registeredAt: isoOrNull(client.registeredAt),
    lastUsedAt: isoOrNull(client.lastUsedAt),
    expiresWhenUnusedFor: client.unusedTtlMs === null ? null : `${Math.round(client.unusedTtlMs / 1000)}s`,
    allowedPatterns: client.allowedPatterns,
    metadata: client.metadata,
  };
}

async function requireClient(db: Parameters<typeof findClient>[0], clientId: string): Promise<ClientRecord> {
  const client = await findClient(db, clientId);
  if (!client) throw new FlowgateError('ERR_NOT_FOUND', `no client ${JSON.stringify(clientId)} (see \`flowgate clients list\`)`);
  return client;
}

/** Registers `clients` and its subcommands on the program. */
export function registerClients(program: Command): void {
  const clients = program.command('clients').description('list, inspect and delete registered OAuth clients');

  clients
    .command('list')
    .description('list clients, newest first')
    .addOption(configOption())
    .addOption(new Option('--status <status>', 'only clients in this status').choices([...STATUSES]))
    .option('--json', 'print JSON instead of a table')
    .action(async (options: ConfigOptions & { status?: ClientRecord['status']; json?: boolean }) => {
      await withOperatorEngine(options, async ({ engine }) => {
        const found = await listClients(engine.store.db, options.status ? { status: options.status } : {});
        if (options.json) sayJson(found.map(clientJson));
        else say(textTable(CLIENT_COLUMNS, found));
      });
    });

  clients
    .command('show')
    .description('show one client: its metadata and how many live grants it holds')
    .argument('<client-id>', 'the client (see `flowgate clients list`)')
    .addOption(configOption())
    .option('--json', 'print JSON instead of text')
    .action(async (clientId: string, options: ConfigOptions & { json?: boolean }) => {
      await withOperatorEngine(options, async ({ engine }) => {
        const client = await requireClient(engine.store.db, clientId);
        const liveGrants = (await listGrants(engine.store.db, { clientId, status: 'active' })).length;
        if (options.json) {
          sayJson({ ...clientJson(client), liveGrants });
          return;
        }
        const rows: Array<[string, string]> = [
          ['client id', client.clientId],
          ['kind', client.kind],
          ['status', client.status],
          ['name', client.metadata.client_name ?? '-'],
          ['authentication', client.metadata.token_endpoint_auth_method],
          ['grant types', client.metadata.grant_types.join(' ')],
          ['scope', client.metadata.scope ?? '-'],
          ['redirect uris', client.metadata.redirect_uris.join('\n               ')],
          ['registered', when(client.registeredAt)],
          ['last used', when(client.lastUsedAt)],
          ['live grants', String(liveGrants)],
        ];
        say(rows.map(([name, value]) => `${name.padEnd(14)} ${value}`).join('\n'));
      });
    });

  clients
    .command('delete')
    .description('delete a dynamic or metadata-document client and revoke every live grant it holds')
    .argument('<client-id>', 'the client (see `flowgate clients list`)')
    .addOption(configOption())
    .option('--json', 'print JSON instead of text')
    .action(async (clientId: string, options: ConfigOptions & { json?: boolean }) => {
      await withOperatorEngine(options, async ({ engine }) => {
        const client = await requireClient(engine.store.db, clientId);
        if (client.kind === 'static') {
          throw new FlowgateError(
            'ERR_STATIC_CLIENT',
            `${clientId} is a static client from the configuration: remove it from clients.static, then run \`flowgate grants revoke --client ${clientId}\``,
          );
        }
        const { deleted } = await engine.execute({ type: 'DeleteClient', clientId });
        const revoked = await revokeGrants(engine, await listGrants(engine.store.db, { clientId, status: 'active' }));
        if (options.json) {
          sayJson({ clientId, deleted, revokedGrants: revoked });
          return;
        }
        const what = deleted ? `deleted ${clientId}` : `${clientId} was already ${client.status}`;
        say(`flowgate: ${what}; revoked ${revoked.length} live grant(s)`);
      });
    });
}
