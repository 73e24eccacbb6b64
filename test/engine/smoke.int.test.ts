import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openTestEngine, type TestEngine } from '../support/engine.js';
import { flowToCode } from '../support/flows.js';
import { storeTargets } from '../support/stores.js';
import { replayStream } from '../../src/engine/replay.js';

for (const target of storeTargets()) {
  describe.skipIf(!target.available)(`engine smoke on ${target.name}`, () => {
    let t: TestEngine;
    beforeEach(async () => {
      t = await openTestEngine(target);
    });
    afterEach(() => t.dispose());

    it('runs a flow to tokens and refreshes', async () => {
      const f = await flowToCode(t.engine);
      const tokens = await t.engine.execute({
        type: 'RedeemCode',
        code: f.issued.code,
        clientId: f.client.clientId,
        codeVerifier: f.client.verifier,
        redirectUri: f.client.redirectUri,
        resource: f.resource,
        issueRefreshToken: true,
      });
      expect(tokens.refreshToken).toBeTruthy();
      const refreshed = await t.engine.execute({
        type: 'RefreshGrant',
        refreshToken: tokens.refreshToken!,
        clientId: f.client.clientId,
        scopes: null,
        resource: null,
      });
      expect(refreshed.refreshToken).not.toBe(tokens.refreshToken);
      const replay = await replayStream(t.store.store, `flow:${f.started.flowId}`);
      console.log(replay.steps.map((s) => `${s.before} -[${s.event.type}]-> ${s.after}`).join('\n'));
      const g = await replayStream(t.store.store, `grant:${tokens.grantId}`);
      console.log(g.steps.map((s) => `${s.before} -[${s.event.type}]-> ${s.after}`).join('\n'));
    });
  });
}
