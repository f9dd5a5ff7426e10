/**
 * Discord sharding: `pastiche discord shards` runs a discord.js ShardingManager, which forks one
 * `pastiche discord shard` process per shard (or group of shards). Each shard process is a whole
 * bot (commands, a queue-mode engine facade, the Discord client) that serves only its shards'
 * guilds; discord.js hands it its shard ids through the environment (SHARDS, SHARD_COUNT,
 * DISCORD_TOKEN), which the Client reads on construction. Shards share nothing in memory: job
 * records, the message → job index, the latent cache and the limit counters are in Redis, so
 * any shard can re-roll any result and a user's limits hold across shards.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { ShardingManager, type ShardingManagerOptions } from 'discord.js';
import { exitOnSignal } from './shutdown.ts';
import { loadConfig, type Config } from '../config.ts';

/** The CLI every shard process runs (it registers tsx itself, so no `execArgv` is needed). */
export const SHARD_SCRIPT = join(import.meta.dirname, '..', '..', 'bin', 'pastiche.js');
/** The hidden subcommand a shard process runs. */
export const SHARD_ARGS: readonly string[] = ['discord', 'shard'];

/** Graceful shutdown of one shard: its jobs may take this long; the manager waits a bit more. */
const SHARD_SHUTDOWN_MS = 30_000;
const MANAGER_SHUTDOWN_MS = SHARD_SHUTDOWN_MS + 5000;

export interface ShardPlan {
  file: string;
  options: ShardingManagerOptions;
}

/**
 * The ShardingManager's options for `config`, or an Error saying why this configuration cannot
 * be sharded. Sharding needs queue mode (N shards loading the models locally would need N times
 * the memory and give N separate queues) and therefore a Redis cache: per-process memory or a
 * SQLite file would split the job records and limits between shards.
 *
 * @example
 * const { file, options } = shardPlan(loadConfig(), 'auto');
 * const manager = new ShardingManager(file, options);
 */
export function shardPlan(config: Config, count: number | 'auto'): ShardPlan {
  const token = config.secrets.discordToken;
  if (!token) throw new Error('set DISCORD_TOKEN (in the environment or .env) to run shards');
  if (config.engine.mode !== 'queue') {
    throw new Error(
      'sharding needs engine.mode queue (PASTICHE_ENGINE_MODE=queue) and `pastiche worker`s: see docs/deployment.md',
    );
  }
  if (!/^rediss?:\/\//.test(config.cache.url)) {
    throw new Error(
      `sharding needs a shared Redis cache (cache.url is ${config.cache.url}); set PASTICHE_CACHE_URL=redis://…`,
    );
  }
  if (count !== 'auto' && !(Number.isInteger(count) && count >= 1)) {
    throw new Error(`shard count must be a whole number ≥ 1 or "auto", got ${String(count)}`);
  }
  return {
    file: SHARD_SCRIPT,
    options: {
      token,
      // 'auto' asks Discord for its recommended count (about one shard per 1000 guilds).
      totalShards: count,
      // Processes, not worker threads: a shard that crashes (or leaks) takes only itself down,
      // and the manager respawns it.
      mode: 'process',
      respawn: true,
      shardArgs: [...SHARD_ARGS],
    },
  };
}

/** Parses `--count`: a whole number or `auto`. */
export function parseShardCount(value: string): number | 'auto' {
  if (value === 'auto') return 'auto';
  const count = Number(value);
  if (!Number.isInteger(count) || count < 1) {
    throw new Error(`--count must be a whole number ≥ 1 or "auto", got "${value}"`);
  }
  return count;
}

/**
 * Spawns the shards and resolves once each is ready. `close` stops respawning, sends each shard
 * SIGTERM (it finishes its running jobs, like `pastiche start`) and waits for them to exit.
 */
export async function startShards(
  plan: ShardPlan,
  log: (line: string) => void = console.log,
): Promise<{ manager: ShardingManager; close(): Promise<void> }> {
  const manager = new ShardingManager(plan.file, plan.options);
  manager.on('shardCreate', (shard) => {
    log(`discord: shard ${shard.id} starting`);
    shard.on('death', () => log(`discord: shard ${shard.id} exited`));
  });
  // Shards log in one after another (Discord's identify rate limit); each may first install
  // nothing (queue mode loads no model) but must reach Redis and the gateway.
  await manager.spawn({ timeout: 60_000 });
  return {
    manager,
    async close() {
      // The manager respawns a shard that exits unless told not to.
      manager.respawn = false;
      const exits = [...manager.shards.values()].map(async (shard) => {
        const child = shard.process;
        if (!child || child.exitCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      });
      await Promise.all(exits);
    },
  };
}

/** A shard process's configuration: Discord only, since the manager runs one per shard. */
export function shardConfig(config: Config): Config {
  const shard: Config = {
    ...config,
    // N shards cannot all listen on the playground's port, and N Slack connections would
    // each receive (and answer) every Slack event.
    playground: { ...config.playground, enabled: false },
    secrets: {
      ...(config.secrets.discordToken !== undefined && {
        discordToken: config.secrets.discordToken,
      }),
      ...(config.secrets.discordAppId !== undefined && {
        discordAppId: config.secrets.discordAppId,
      }),
    },
  };
  // Not enumerable, as in loadConfig: logging or serialising the config never prints a token.
  Object.defineProperty(shard, 'secrets', { enumerable: false });
  Object.freeze(shard.secrets);
  Object.freeze(shard.playground);
  return Object.freeze(shard);
}

/** `pastiche discord shards [--count N|auto]` and the hidden `pastiche discord shard`. */
export function registerShardCommands(discord: Command): void {
  discord
    .command('shards')
    .description(
      'run the Discord bot as N shard processes (discord.js ShardingManager); needs queue mode and Redis',
    )
    .option('--count <n>', 'number of shards, or "auto" for Discord\'s recommendation', 'auto')
    .action(async (o: { count: string }) => {
      let plan: ShardPlan;
      try {
        plan = shardPlan(loadConfig(), parseShardCount(o.count));
      } catch (error) {
        discord.error(`error: ${(error as Error).message}`);
      }
      const shards = await startShards(plan);
      console.log(`discord: ${shards.manager.shards.size} shards ready. Press Ctrl-C to stop.`);
      exitOnSignal({
        message: 'stopping the shards (each finishes its running jobs) …',
        limitMs: MANAGER_SHUTDOWN_MS,
        close: () => shards.close(),
      });
    });

  discord
    // Hidden: only the ShardingManager runs it, with the shard ids in the environment.
    .command('shard', { hidden: true })
    .description('one shard process (started by `pastiche discord shards`)')
    .action(async () => {
      const config = shardConfig(loadConfig());
      const { startApp } = await import('../app.ts');
      const app = await startApp({ config });
      exitOnSignal({
        message: `shard ${process.env.SHARDS ?? '?'}: finishing running jobs …`,
        limitMs: SHARD_SHUTDOWN_MS,
        close: () => app.close(),
      });
    });
}
