/**
 * Child process for the cross-process refresh race: a second flowgate instance on the same
 * store (config as JSON in FLOWGATE_CHILD_CONFIG), firing REFRESH_PARALLEL refreshes of one
 * token at REFRESH_START_AT through its own `fetch`, printing the statuses and errors.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { createFlowgate } from '../../src/flowgate.js';

const env = process.env;
const flowgate = await createFlowgate(JSON.parse(env.FLOWGATE_CHILD_CONFIG!), { logger: pino({ level: 'silent' }) });
const startAt = Number(env.REFRESH_START_AT);
while (Date.now() < startAt) await sleep(1);
const results = await Promise.all(
  Array.from({ length: Number(env.REFRESH_PARALLEL ?? 3) }, async () => {
    const response = await flowgate.fetch(
      new Request(`${flowgate.settings.baseUrl}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: env.REFRESH_TOKEN!, client_id: env.REFRESH_CLIENT_ID! }),
      }),
    );
    const body = (await response.json()) as { error?: string };
    return { status: response.status, error: body.error ?? null };
  }),
);
await flowgate.close();
process.stdout.write(JSON.stringify(results) + '\n');
