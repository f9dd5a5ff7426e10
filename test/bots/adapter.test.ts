/** The adapter contract: every front end is an AdapterSpec the app starts, watches and stops alike. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AdapterContext } from '../../src/bots/adapter.ts';
import { discordAdapter } from '../../src/bots/discord/index.ts';
import { playgroundAdapter } from '../../src/bots/playground/index.ts';
import { slackAdapter } from '../../src/bots/slack/index.ts';
import type { Commands } from '../../src/commands/index.ts';
import { loadConfig } from '../../src/config.ts';
import { silentLogger } from '../../src/log.ts';

const config = (env: Record<string, string>) =>
  loadConfig({ cwd: '/nonexistent', env: { PASTICHE_PLAYGROUND_PORT: '0', ...env } });

describe('adapter specs', () => {
  it('each is enabled by its own setting or token', () => {
    const none = config({ PASTICHE_PLAYGROUND_ENABLED: 'false' });
    assert.deepEqual(
      [playgroundAdapter, discordAdapter, slackAdapter].map((a) => a.enabled(none)),
      [false, false, false],
    );
    const all = config({
      PASTICHE_PLAYGROUND_ENABLED: 'true',
      DISCORD_TOKEN: 'discord-token-for-test',
      SLACK_BOT_TOKEN: 'xoxb-test',
      SLACK_APP_TOKEN: 'xapp-test',
    });
    assert.deepEqual(
      [playgroundAdapter, discordAdapter, slackAdapter].map((a) => [a.name, a.enabled(all)]),
      [
        ['playground', true],
        ['discord', true],
        ['slack', true],
      ],
    );
  });

  it('the playground starts as an Adapter and serves the readiness the app hands it', async () => {
    let ready = false;
    const ctx: AdapterContext = {
      config: config({ PASTICHE_PLAYGROUND_ENABLED: 'true' }),
      // Nothing here sends a command; the playground only keeps the reference.
      commands: {} as Commands,
      notice: undefined,
      defaultPack: undefined,
      log: () => undefined,
      logger: silentLogger,
      health: undefined,
      ready: () => Promise.resolve({ ready, checks: { engine: ready } }),
    };
    const adapter = await playgroundAdapter.start(ctx);
    try {
      assert.equal(adapter.name, 'playground');
      assert.match(adapter.url ?? '', /^http:\/\/127\.0\.0\.1:\d+\/$/);
      assert.equal(adapter.ready(), true);
      const before = await fetch(`${adapter.url}readyz`);
      assert.equal(before.status, 503);
      assert.deepEqual(await before.json(), { ready: false, checks: { engine: false } });
      ready = true;
      assert.equal((await fetch(`${adapter.url}readyz`)).status, 200);
      assert.deepEqual(await (await fetch(`${adapter.url}healthz`)).json(), { ok: true });
    } finally {
      await adapter.stop();
      await adapter.close();
    }
    await assert.rejects(fetch(`${adapter.url}healthz`), 'closed');
  });
});
