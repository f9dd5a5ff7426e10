/**
 * Discord sharding, short of a gateway: the configuration → ShardingManager options, the checks
 * that refuse a configuration whose state would not be shared, what a shard process runs, and
 * that discord.js accepts the options. Spawning real shards needs Discord's gateway (the fake
 * Discord in test/discord is wired through `startDiscord`'s REST option, which a shard process
 * started by the manager does not set), so that path is not exercised here.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Command } from 'commander';
import { ShardingManager } from 'discord.js';
import {
  parseShardCount,
  SHARD_ARGS,
  SHARD_SCRIPT,
  shardConfig,
  shardPlan,
} from '../../src/cli/shards.ts';
import { registerDiscord } from '../../src/cli/discord.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { REDIS_URL } from '../helpers/redis.ts';

// An empty directory as cwd, so a developer's .env never leaks into the test.
const cwd = mkdtempSync(join(tmpdir(), 'pastiche-shards-'));

const config = (env: Record<string, string> = {}): Config =>
  loadConfig({
    cwd,
    env: {
      DISCORD_TOKEN: 'token-1',
      DISCORD_APP_ID: '42',
      SLACK_BOT_TOKEN: 'xoxb-1',
      PASTICHE_ENGINE_MODE: 'queue',
      PASTICHE_CACHE_URL: REDIS_URL,
      ...env,
    },
  });

describe('discord shards: configuration', () => {
  after(() => rmSync(cwd, { recursive: true, force: true }));

  it('maps the configuration to ShardingManager options that fork `pastiche discord shard`', () => {
    const plan = shardPlan(config(), 4);
    assert.equal(plan.file, SHARD_SCRIPT);
    assert.ok(existsSync(plan.file), 'the shard script exists');
    assert.deepEqual(plan.options, {
      token: 'token-1',
      totalShards: 4,
      mode: 'process',
      respawn: true,
      shardArgs: ['discord', 'shard'],
    });
    assert.equal(shardPlan(config(), 'auto').options.totalShards, 'auto');
    // discord.js validates the file and options in its constructor; nothing is spawned.
    const manager = new ShardingManager(plan.file, plan.options);
    assert.equal(manager.totalShards, 4);
    assert.deepEqual(manager.shardArgs, ['discord', 'shard']);
  });

  it('refuses configurations whose state would not be shared by the shards', () => {
    assert.throws(() => shardPlan(config({ DISCORD_TOKEN: '' }), 2), /DISCORD_TOKEN/);
    assert.throws(() => shardPlan(config({ PASTICHE_ENGINE_MODE: 'local' }), 2), /queue/);
    assert.throws(
      () => shardPlan(config({ PASTICHE_CACHE_URL: 'sqlite://cache.sqlite' }), 2),
      /shared Redis cache/,
    );
    assert.throws(() => shardPlan(config(), 0), /whole number/);
  });

  it('parses --count', () => {
    assert.equal(parseShardCount('auto'), 'auto');
    assert.equal(parseShardCount('3'), 3);
    for (const bad of ['0', '-1', '1.5', 'x', '']) {
      assert.throws(() => parseShardCount(bad), /whole number/, bad);
    }
  });

  it('a shard process runs Discord only', () => {
    const c = shardConfig(config());
    assert.equal(c.playground.enabled, false);
    assert.deepEqual(c.secrets, { discordToken: 'token-1', discordAppId: '42' });
    assert.equal(c.engine.mode, 'queue');
    // Serialising or logging a shard's config must not print the token (issue 11, finding 10).
    assert.doesNotMatch(JSON.stringify(c), /token-1/);
    assert.ok(!Object.keys(c).includes('secrets'));
  });

  it('the CLI has `discord shards` and the shard entry the manager runs', () => {
    const program = new Command();
    registerDiscord(program);
    const discord = program.commands.find((c) => c.name() === SHARD_ARGS[0]);
    const names = discord?.commands.map((c) => c.name()) ?? [];
    assert.ok(names.includes('shards'), `shards in ${String(names)}`);
    assert.ok(names.includes(SHARD_ARGS[1] ?? ''), `shard in ${String(names)}`);
  });
});
