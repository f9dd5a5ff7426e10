import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CONFIG_VARIABLES, ConfigError, loadConfig, type ConfigIssue } from '../src/config.ts';
import { tempDir } from './helpers/packs.ts';

/** The issues of the ConfigError that `load` throws. */
function issuesOf(load: () => unknown): ConfigIssue[] {
  try {
    load();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return [...error.issues];
  }
  assert.fail('expected a ConfigError');
}

describe('loadConfig', () => {
  it('gives the documented defaults, frozen, with paths resolved against cwd', () => {
    const cwd = tempDir('config');
    const config = loadConfig({ env: {}, cwd });
    assert.equal(config.modelsDir, join(cwd, 'models'));
    assert.deepEqual(config.models, {
      hubUrl: 'https://huggingface.co',
      repo: 'CVPR/DualStyleGAN',
      defaultStyle: 'cartoon',
      downloadsDir: join(cwd, 'models', '.downloads'),
    });
    assert.deepEqual(config.cache, {
      url: 'sqlite://data/cache.sqlite',
      ttlDays: 7,
      keyPrefix: 'pastiche',
    });
    assert.equal(config.photo.maxBytes, 20 * 1024 * 1024);
    assert.equal(config.photo.maxPixels, 50_000_000);
    assert.deepEqual(config.limits, {
      perUserRunning: 1,
      perUserQueued: 2,
      perUserPerHour: 30,
      perChannelConcurrency: 4,
      globalQueue: 50,
    });
    assert.deepEqual(config.playground, {
      enabled: true,
      host: '127.0.0.1',
      port: 8788,
      publicHosts: [],
    });
    assert.deepEqual(config.discord.cdnHosts, [
      'cdn.discordapp.com',
      'media.discordapp.net',
      'images-ext-1.discordapp.net',
      'images-ext-2.discordapp.net',
    ]);
    assert.equal(config.slack.socketMode, true);
    assert.equal(config.engine.mode, 'local');
    assert.deepEqual(config.queue, {
      name: 'pastiche',
      url: null,
      concurrency: 1,
      attempts: 3,
      lockMs: 30_000,
      stalledIntervalMs: 30_000,
      maxRequestBytes: 20 * 1024 * 1024,
      maxResultBytes: 8 * 1024 * 1024,
    });
    assert.deepEqual(config.secrets, {});
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.playground));
    assert.ok(Object.isFrozen(config.discord.cdnHosts) && Object.isFrozen(config.secrets));
  });

  it('lets one environment variable override one key, with types coerced', () => {
    const config = loadConfig({
      cwd: tempDir('config'),
      env: {
        PASTICHE_PLAYGROUND_PORT: '9000',
        PASTICHE_ENGINE_WARMUP: 'off',
        PASTICHE_DISCORD_CDN_HOSTS: 'cdn.example.com, media.example.com',
        PASTICHE_MODELS_DIR: '/srv/packs',
        PASTICHE_MODELS_HUB_URL: 'http://127.0.0.1:9999',
        PASTICHE_LIMITS_PER_USER_QUEUED: '',
        REDIS_URL: 'redis://cache:6379',
      },
    });
    assert.equal(config.playground.port, 9000);
    assert.equal(config.engine.warmup, false);
    assert.deepEqual(config.discord.cdnHosts, ['cdn.example.com', 'media.example.com']);
    assert.equal(config.modelsDir, '/srv/packs');
    assert.equal(config.models.downloadsDir, '/srv/packs/.downloads');
    assert.equal(config.models.hubUrl, 'http://127.0.0.1:9999');
    assert.equal(config.limits.perUserQueued, 2, 'a blank variable counts as unset');
    assert.equal(config.cache.url, 'redis://cache:6379', 'REDIS_URL stands in for the cache URL');
    const explicit = loadConfig({
      cwd: tempDir('config'),
      env: { REDIS_URL: 'redis://cache:6379', PASTICHE_CACHE_URL: 'memory' },
    });
    assert.equal(explicit.cache.url, 'memory');
  });

  it('merges the PASTICHE_CONFIG file over the defaults, under the environment', () => {
    const cwd = tempDir('config');
    writeFileSync(
      join(cwd, 'site.json'),
      JSON.stringify({ playground: { port: 9100, host: '0.0.0.0' }, limits: { perUserQueued: 5 } }),
    );
    const config = loadConfig({
      cwd,
      env: { PASTICHE_CONFIG: 'site.json', PASTICHE_PLAYGROUND_PORT: '9101' },
    });
    assert.deepEqual(config.playground, {
      enabled: true,
      host: '0.0.0.0',
      port: 9101,
      publicHosts: [],
    });
    assert.equal(config.limits.perUserQueued, 5);
    assert.equal(config.limits.perUserRunning, 1, 'keys the file leaves out keep their default');

    const missing = issuesOf(() => loadConfig({ cwd, env: { PASTICHE_CONFIG: 'nope.json' } }));
    assert.equal(missing[0]?.source, join(cwd, 'nope.json'));
  });

  it('reads .env for variables the environment lacks, without touching the environment', () => {
    const cwd = tempDir('config');
    writeFileSync(
      join(cwd, '.env'),
      'PASTICHE_PLAYGROUND_PORT=9200\nDISCORD_TOKEN=from-dotenv\nSLACK_BOT_TOKEN=xoxb-dotenv\n',
    );
    const env = { DISCORD_TOKEN: 'from-env' };
    const config = loadConfig({ cwd, env });
    assert.equal(config.playground.port, 9200);
    assert.equal(config.secrets.discordToken, 'from-env', 'the real environment wins');
    assert.equal(config.secrets.slackBotToken, 'xoxb-dotenv');
    assert.deepEqual(env, { DISCORD_TOKEN: 'from-env' });
  });

  it('takes secrets from the environment only, and never prints them', () => {
    const cwd = tempDir('config');
    const config = loadConfig({
      cwd,
      env: { DISCORD_TOKEN: 'sekrit', DISCORD_APP_ID: '123', SLACK_SIGNING_SECRET: ' ' },
    });
    assert.deepEqual({ ...config.secrets }, { discordToken: 'sekrit', discordAppId: '123' });
    assert.ok(!JSON.stringify(config).includes('sekrit'));
    assert.ok(!Object.keys(config).includes('secrets'));

    // A token in a JSON file is refused, not ignored: it is probably committed somewhere.
    writeFileSync(
      join(cwd, 'leaky.json'),
      JSON.stringify({ discord: { token: 'abc' }, SLACK_BOT_TOKEN: 'xoxb', playground: {} }),
    );
    const issues = issuesOf(() => loadConfig({ cwd, env: { PASTICHE_CONFIG: 'leaky.json' } }));
    assert.deepEqual(
      issues.map((i) => i.key),
      ['discord.token', 'SLACK_BOT_TOKEN'],
    );
    assert.match(issues[0]!.message, /never read from JSON files: set DISCORD_TOKEN/);
    assert.match(issues[1]!.message, /set SLACK_BOT_TOKEN/);
    assert.ok(issues.every((i) => i.source === join(cwd, 'leaky.json')));
  });

  it('rejects invalid values with one error naming every bad key and its source', () => {
    const cwd = tempDir('config');
    writeFileSync(
      join(cwd, 'bad.json'),
      JSON.stringify({
        cache: { ttlDays: -1 },
        playground: { prot: 1 },
        discord: { cdnHosts: [] },
      }),
    );
    let message = '';
    const issues = issuesOf(() => {
      try {
        return loadConfig({
          cwd,
          env: {
            PASTICHE_CONFIG: 'bad.json',
            PASTICHE_PLAYGROUND_PORT: 'eighty',
            PASTICHE_ENGINE_MAX_BATCH: '0',
            PASTICHE_PLAYGROUNDPORT: '1',
          },
        });
      } catch (error) {
        message = (error as Error).message;
        throw error;
      }
    });
    const byKey = new Map(issues.map((i) => [i.key, i]));
    assert.deepEqual([...byKey.keys()].sort(), [
      'PASTICHE_PLAYGROUNDPORT',
      'cache.ttlDays',
      'discord.cdnHosts',
      'engine.maxBatch',
      'playground.port',
      'playground.prot',
    ]);
    assert.match(byKey.get('playground.port')!.message, /expected a number, got "eighty"/);
    assert.equal(byKey.get('playground.port')!.source, 'PASTICHE_PLAYGROUND_PORT');
    assert.equal(byKey.get('engine.maxBatch')!.source, 'PASTICHE_ENGINE_MAX_BATCH');
    assert.equal(byKey.get('cache.ttlDays')!.source, join(cwd, 'bad.json'));
    assert.match(byKey.get('playground.prot')!.message, /unknown setting/);
    assert.match(message, /^invalid configuration:\n {2}- /);
    assert.match(message, /cache\.ttlDays \(from .*bad\.json\): /);
  });

  it('reads the queue mode and queue settings from the environment', () => {
    const config = loadConfig({
      cwd: tempDir('config'),
      env: {
        PASTICHE_ENGINE_MODE: 'queue',
        PASTICHE_QUEUE_URL: 'redis://queue:6379',
        PASTICHE_QUEUE_CONCURRENCY: '4',
      },
    });
    assert.equal(config.engine.mode, 'queue');
    assert.equal(config.queue.url, 'redis://queue:6379');
    assert.equal(config.queue.concurrency, 4);
    const issues = issuesOf(() =>
      loadConfig({
        cwd: tempDir('config'),
        env: { PASTICHE_ENGINE_MODE: 'cluster', PASTICHE_QUEUE_URL: 'http://x' },
      }),
    );
    assert.deepEqual(issues.map((i) => i.key).sort(), ['engine.mode', 'queue.url']);
  });

  it('reads the Redis key prefix and the playground public names, refusing unsafe ones', () => {
    const config = loadConfig({
      cwd: tempDir('config'),
      env: {
        PASTICHE_CACHE_KEY_PREFIX: 'site-b',
        PASTICHE_PLAYGROUND_PUBLIC_HOSTS: 'pastiche.example, pastiche.example:8443',
      },
    });
    assert.equal(config.cache.keyPrefix, 'site-b');
    assert.deepEqual(config.playground.publicHosts, ['pastiche.example', 'pastiche.example:8443']);
    // A glob character would widen the SCAN patterns built on the prefix; ':' would nest it.
    for (const bad of ['a*', 'a:b', '']) {
      const issues = issuesOf(() =>
        loadConfig({
          cwd: tempDir('config'),
          env: { PASTICHE_CACHE_KEY_PREFIX: bad || ' ' },
        }),
      );
      assert.deepEqual(
        issues.map((i) => i.key),
        ['cache.keyPrefix'],
        bad,
      );
    }
  });

  it('documents every variable in .env.example, one name per key', () => {
    const example = readFileSync(join(import.meta.dirname, '..', '.env.example'), 'utf8');
    const names = CONFIG_VARIABLES.map((v) => v.env);
    assert.equal(new Set(names).size, names.length);
    for (const name of [...names, 'PASTICHE_CONFIG', 'REDIS_URL', 'DISCORD_TOKEN']) {
      assert.match(example, new RegExp(`^${name}=$`, 'm'), `${name} missing from .env.example`);
    }
  });
});
