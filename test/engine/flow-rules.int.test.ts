/**
 * Security rules of the authorization flow, at the engine: every refusal names its reason
 * and writes nothing (except expiry and replay, which are recorded).
 *
 * Each rule was checked once by hand to fail with its guard removed:
 * - browser binding: `requireSameBrowser` made a no-op → the consent and callback tests fail
 *   (and with the machine's `sameBrowser`/`stateIsCurrent` browser check also removed, an
 *   event is written);
 * - PKCE: the verifier comparison in `redeem-code.ts` removed → "a wrong verifier" fails;
 * - single-use state: `flowByUpstreamState`'s state check removed → the machine refuses the
 *   second `upstream.callback_accepted` (IllegalTransitionError), so the replay still fails.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FlowError } from '../../src/engine/errors.js';
import { sha256Base64Url } from '../../src/crypto/random.js';
import { randomToken } from '../../src/crypto/random.js';
import { openTestEngine, type TestEngine } from '../support/engine.js';
import { clientSide, flowToCode, upstreamTokens } from '../support/flows.js';
import { storeTargets } from '../support/stores.js';

async function types(t: TestEngine, streamId: string): Promise<string[]> {
  return (await t.store.store.readStream(streamId)).map((e) => e.type);
}

for (const target of storeTargets()) {
  describe.skipIf(!target.available)(`authorization flow rules on ${target.name}`, () => {
    let t: TestEngine;
    beforeEach(async () => {
      t = await openTestEngine(target);
    });
    afterEach(() => t.dispose());

    async function started(client = clientSide()) {
      const s = await t.engine.execute({
        type: 'StartFlow',
        clientId: client.clientId,
        redirectUri: client.redirectUri,
        codeChallenge: client.challenge,
        scopes: ['mcp:tools'],
        resource: 'http://127.0.0.1:8787/mcp',
        clientState: client.state,
        browserHash: client.browser,
      });
      return { client, flowId: s.flowId };
    }

    it('refuses consent from another browser and writes nothing', async () => {
      const { flowId } = await started();
      const other = sha256Base64Url(randomToken());
      for (const type of ['ShowConsent', 'ApproveConsent', 'DenyConsent'] as const) {
        const error = await t.engine.execute({ type, flowId, browserHash: other }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(FlowError);
        expect(error).toMatchObject({ problem: 'browser_mismatch', status: 403 });
      }
      expect(await types(t, `flow:${flowId}`)).toEqual(['flow.started']);
    });

    it('records the first consent render only; a second tab of the same browser still approves once', async () => {
      const { client, flowId } = await started();
      await t.engine.execute({ type: 'ShowConsent', flowId, browserHash: client.browser });
      await t.engine.execute({ type: 'ShowConsent', flowId, browserHash: client.browser });
      await t.engine.execute({ type: 'ApproveConsent', flowId, browserHash: client.browser });
      const again = await t.engine.execute({ type: 'ApproveConsent', flowId, browserHash: client.browser }).catch((e: unknown) => e);
      expect(again).toMatchObject({ problem: 'already_used' });
      const deny = await t.engine.execute({ type: 'DenyConsent', flowId, browserHash: client.browser }).catch((e: unknown) => e);
      expect(deny).toMatchObject({ problem: 'already_used' });
      expect(await types(t, `flow:${flowId}`)).toEqual(['flow.started', 'consent.shown', 'consent.approved', 'upstream.redirected']);
    });

    it('never approves a flow whose consent page was not shown', async () => {
      const { client, flowId } = await started();
      const error = await t.engine.execute({ type: 'ApproveConsent', flowId, browserHash: client.browser }).catch((e: unknown) => e);
      expect(error).toMatchObject({ problem: 'already_used' });
      expect(await types(t, `flow:${flowId}`)).toEqual(['flow.started']);
    });

    it('returns the client state and redirect URI on deny', async () => {
      const { client, flowId } = await started();
      await t.engine.execute({ type: 'ShowConsent', flowId, browserHash: client.browser });
      const back = await t.engine.execute({ type: 'DenyConsent', flowId, browserHash: client.browser });
      expect(back).toEqual({ clientId: client.clientId, redirectUri: client.redirectUri, clientState: client.state });
    });

    it('accepts the upstream callback only from the approving browser, and only once', async () => {
      const { client, flowId } = await started();
      await t.engine.execute({ type: 'ShowConsent', flowId, browserHash: client.browser });
      const { upstream } = await t.engine.execute({ type: 'ApproveConsent', flowId, browserHash: client.browser });
      const victim = sha256Base64Url(randomToken());
      const foreign = await t.engine.execute({ type: 'AcceptCallback', upstreamState: upstream.state, browserHash: victim }).catch((e: unknown) => e);
      expect(foreign).toMatchObject({ problem: 'browser_mismatch', status: 403 });
      expect((await types(t, `flow:${flowId}`)).at(-1)).toBe('upstream.redirected');
      const accepted = await t.engine.execute({ type: 'AcceptCallback', upstreamState: upstream.state, browserHash: client.browser });
      expect(accepted.codeVerifier).toBe(upstream.codeVerifier);
      expect(accepted.nonceHash).toBe(sha256Base64Url(upstream.nonce));
      const replay = await t.engine.execute({ type: 'AcceptCallback', upstreamState: upstream.state, browserHash: client.browser }).catch((e: unknown) => e);
      expect(replay).toMatchObject({ problem: 'already_used' });
      const unknown = await t.engine.execute({ type: 'AcceptCallback', upstreamState: randomToken(), browserHash: client.browser }).catch((e: unknown) => e);
      expect(unknown).toMatchObject({ problem: 'not_found' });
    });

    it('refuses a callback after the upstream state expired', async () => {
      const { client, flowId } = await started();
      await t.engine.execute({ type: 'ShowConsent', flowId, browserHash: client.browser });
      const { upstream } = await t.engine.execute({ type: 'ApproveConsent', flowId, browserHash: client.browser });
      t.clock.advance(t.settings.upstreamStateTtlMs);
      const late = await t.engine.execute({ type: 'AcceptCallback', upstreamState: upstream.state, browserHash: client.browser }).catch((e: unknown) => e);
      expect(late).toMatchObject({ problem: 'expired' });
    });

    it('expires a flow past its deadline in the log when it is touched', async () => {
      const { client, flowId } = await started();
      t.clock.advance(t.settings.flowTtlMs);
      const error = await t.engine.execute({ type: 'ShowConsent', flowId, browserHash: client.browser }).catch((e: unknown) => e);
      expect(error).toMatchObject({ problem: 'expired' });
      expect(await types(t, `flow:${flowId}`)).toEqual(['flow.started', 'flow.expired']);
    });

    it('ends the flow on an upstream error from its own browser only, and hands back the client state, never the upstream text', async () => {
      const { client, flowId } = await started();
      await t.engine.execute({ type: 'ShowConsent', flowId, browserHash: client.browser });
      const { upstream } = await t.engine.execute({ type: 'ApproveConsent', flowId, browserHash: client.browser });
      const stranger = await t.engine
        .execute({ type: 'RecordUpstreamError', upstreamState: upstream.state, error: 'access_denied', browserHash: 'another-browser' })
        .catch((e: unknown) => e);
      expect(stranger).toMatchObject({ problem: 'browser_mismatch' });
      expect(await types(t, `flow:${flowId}`)).toEqual(['flow.started', 'consent.shown', 'consent.approved', 'upstream.redirected']);
      const back = await t.engine.execute({
        type: 'RecordUpstreamError',
        upstreamState: upstream.state,
        error: 'access_denied<script>',
        browserHash: client.browser,
      });
      expect(back.clientState).toBe(client.state);
      const events = await t.store.store.readStream(`flow:${flowId}`);
      expect(events.at(-1)).toMatchObject({ type: 'upstream.error_received', data: { error: 'access_denied' } });
    });

    it('binds a code to its client, verifier, redirect URI and resource; failures write nothing', async () => {
      const f = await flowToCode(t.engine);
      const before = await types(t, `flow:${f.started.flowId}`);
      const base = {
        type: 'RedeemCode' as const,
        code: f.issued.code,
        clientId: f.client.clientId,
        codeVerifier: f.client.verifier,
        redirectUri: f.client.redirectUri,
        resource: f.resource,
        issueRefreshToken: true,
      };
      const cases: Array<[Partial<typeof base>, string]> = [
        [{ clientId: 'someone-else' }, 'invalid_grant'],
        [{ codeVerifier: randomToken(32) }, 'invalid_grant'],
        [{ codeVerifier: 'short' }, 'invalid_grant'],
        [{ redirectUri: 'http://127.0.0.1:53682/other' }, 'invalid_grant'],
        [{ resource: 'http://127.0.0.1:8787/other' }, 'invalid_target'],
        [{ code: randomToken(32) }, 'invalid_grant'],
      ];
      for (const [change, code] of cases) {
        const error = await t.engine.execute({ ...base, ...change }).catch((e: unknown) => e);
        expect(error, JSON.stringify(change)).toMatchObject({ code });
      }
      expect(await types(t, `flow:${f.started.flowId}`)).toEqual(before);
      const tokens = await t.engine.execute(base);
      expect(tokens.scopes).toEqual(['mcp:tools']);
    });

    it('expires an unredeemed code after its lifetime', async () => {
      const f = await flowToCode(t.engine);
      t.clock.advance(t.settings.codeTtlMs);
      const error = await t.engine
        .execute({ type: 'RedeemCode', code: f.issued.code, clientId: f.client.clientId, codeVerifier: f.client.verifier, redirectUri: null, resource: null, issueRefreshToken: true })
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'invalid_grant', description: 'the authorization code has expired' });
      expect((await types(t, `flow:${f.started.flowId}`)).at(-1)).toBe('flow.expired');
    });

    it('narrows the code to the scopes the upstream granted', async () => {
      const client = clientSide();
      const s = await t.engine.execute({
        type: 'StartFlow',
        clientId: client.clientId,
        redirectUri: client.redirectUri,
        codeChallenge: client.challenge,
        scopes: ['mcp:tools', 'mcp:admin'],
        resource: 'http://127.0.0.1:8787/mcp',
        clientState: null,
        browserHash: client.browser,
      });
      await t.engine.execute({ type: 'ShowConsent', flowId: s.flowId, browserHash: client.browser });
      const { upstream } = await t.engine.execute({ type: 'ApproveConsent', flowId: s.flowId, browserHash: client.browser });
      await t.engine.execute({ type: 'AcceptCallback', upstreamState: upstream.state, browserHash: client.browser });
      const issued = await t.engine.execute({
        type: 'CompleteUpstreamExchange',
        flowId: s.flowId,
        subject: 'bob',
        claims: null,
        tokenSet: upstreamTokens(),
        upstreamExpiresAt: null,
        refreshable: false,
        grantedScopes: ['mcp:tools'],
      });
      expect(issued.clientState).toBeNull();
      const tokens = await t.engine.execute({
        type: 'RedeemCode',
        code: issued.code,
        clientId: client.clientId,
        codeVerifier: client.verifier,
        redirectUri: null,
        resource: null,
        issueRefreshToken: false,
      });
      expect(tokens.scopes).toEqual(['mcp:tools']);
      expect(tokens.refreshToken).toBeNull();
    });

    it('sweeps overdue flows and unredeemed codes', async () => {
      const open = await started();
      const f = await flowToCode(t.engine);
      t.clock.advance(t.settings.flowTtlMs);
      const report = await t.engine.sweep();
      expect(report.flows).toBe(2);
      expect((await types(t, `flow:${open.flowId}`)).at(-1)).toBe('flow.expired');
      expect((await types(t, `flow:${f.started.flowId}`)).at(-1)).toBe('flow.expired');
      expect((await t.engine.sweep()).flows).toBe(0);
    });
  });
}
