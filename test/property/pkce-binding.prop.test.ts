/**
 * PKCE binding as a property (security invariants 23–26): a code redeems only with the
 * verifier whose S256 is its challenge, only by its own client, only with its own redirect
 * URI (when one is sent), at most once; every other attempt changes nothing, and a valid
 * replay of a redeemed code revokes what the code issued.
 *
 * Checked by hand: with the verifier comparison of `redeem-code.ts` and the machine's
 * `verifierChallenge` guard removed, fast-check finds an attempt with another code's
 * verifier that gets tokens.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openTestEngine } from '../support/engine.js';
import { clientSide, flowToCode } from '../support/flows.js';
import { storeTargets } from '../support/stores.js';

interface Attempt {
  readonly code: number;
  readonly client: number;
  readonly verifierOf: number | 'random';
  readonly redirect: 'own' | 'other' | 'none';
}

const attempt = fc.record<Attempt>({
  code: fc.nat({ max: 2 }),
  client: fc.nat({ max: 1 }),
  verifierOf: fc.oneof(fc.nat({ max: 2 }), fc.constant('random' as const)),
  redirect: fc.constantFrom('own', 'other', 'none'),
});

describe('PKCE binding', () => {
  it('redeems a code only with its own verifier, client and redirect URI, at most once', async () => {
    const target = storeTargets()[0]!;
    await fc.assert(
      fc.asyncProperty(fc.array(attempt, { minLength: 1, maxLength: 12 }), async (attempts) => {
        const t = await openTestEngine(target);
        try {
          const clients = [clientSide('client-0', 'http://127.0.0.1:1000/cb'), clientSide('client-1', 'http://127.0.0.1:2000/cb')];
          const flows = [];
          for (let i = 0; i < 3; i++) {
            const owner = clients[i % 2]!;
            const side = { ...clientSide(owner.clientId, owner.redirectUri), browser: owner.browser };
            flows.push({ owner: i % 2, flow: await flowToCode(t.engine, side) });
          }
          const redeemed = new Set<number>();
          for (const a of attempts) {
            const target = flows[a.code]!;
            const verifier = a.verifierOf === 'random' ? 'x'.repeat(43) : flows[a.verifierOf]!.flow.client.verifier;
            const redirectUri =
              a.redirect === 'none' ? null : a.redirect === 'own' ? target.flow.client.redirectUri : 'http://127.0.0.1:3000/cb';
            const valid =
              a.client === target.owner &&
              (a.verifierOf === a.code || (a.verifierOf !== 'random' && flows[a.verifierOf]!.flow.client.verifier === target.flow.client.verifier)) &&
              a.redirect !== 'other';
            const before = (await t.store.store.readStream(`flow:${target.flow.started.flowId}`)).length;
            const outcome = await t.engine
              .execute({
                type: 'RedeemCode',
                code: target.flow.issued.code,
                clientId: clients[a.client]!.clientId,
                codeVerifier: verifier,
                redirectUri,
                resource: null,
                issueRefreshToken: true,
              })
              .then(
                () => 'tokens' as const,
                (e: { code?: string }) => e.code,
              );
            const after = (await t.store.store.readStream(`flow:${target.flow.started.flowId}`)).length;
            if (valid && !redeemed.has(a.code)) {
              expect(outcome).toBe('tokens');
              redeemed.add(a.code);
            } else {
              expect(outcome).toBe('invalid_grant');
              if (!valid) expect(after).toBe(before);
            }
          }
        } finally {
          await t.dispose();
        }
      }),
      { numRuns: 40 },
    );
  }, 120_000);
});
