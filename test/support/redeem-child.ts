/**
 * Child process for the cross-process redemption race: opens the engine on the SQLite
 * file (or PostgreSQL) named in its environment, waits for the shared start time, fires
 * REDEEM_PARALLEL redemptions of one code at once and prints what each returned.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfigFile } from '../../src/config/load.js';
import { openEngine } from '../../src/engine/create-engine.js';
import { TestSigner } from './engine.js';

const env = process.env;
const config = await loadConfigFile(undefined, env);
const opened = await openEngine(config, { signer: await TestSigner.create(), upstreamIssuer: 'http://127.0.0.1:9999' });
const startAt = Number(env.REDEEM_START_AT);
while (Date.now() < startAt) await sleep(1);
const results = await Promise.allSettled(
  Array.from({ length: Number(env.REDEEM_PARALLEL ?? 3) }, () =>
    opened.engine.execute({
      type: 'RedeemCode',
      code: env.REDEEM_CODE!,
      clientId: env.REDEEM_CLIENT_ID!,
      codeVerifier: env.REDEEM_VERIFIER!,
      redirectUri: env.REDEEM_REDIRECT_URI!,
      resource: null,
      issueRefreshToken: true,
    }),
  ),
);
await opened.close();
process.stdout.write(
  JSON.stringify(
    results.map((r) =>
      r.status === 'fulfilled'
        ? { ok: true, jti: r.value.jti }
        : { ok: false, error: (r.reason as { code?: string }).code ?? String(r.reason) },
    ),
  ) + '\n',
);
