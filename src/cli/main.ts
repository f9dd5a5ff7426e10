/**
 * The `pastiche` command. Each subcommand's module is imported only when it runs: their imports
 * (the engine, discord.js, Bolt) cost most of a start-up, and `pastiche models list` should not
 * pay for the Discord bot. Help without a subcommand needs them all, so then all are loaded.
 */
import { Command } from 'commander';

type Register = (program: Command) => void;

/** In the order help lists them. */
const SUBCOMMANDS: Record<string, () => Promise<Register>> = {
  models: async () => (await import('./models.ts')).registerModels,
  start: async () => (await import('./start.ts')).registerStart,
  stylize: async () => (await import('./stylize.ts')).registerStylize,
  discord: async () => (await import('./discord.ts')).registerDiscord,
  worker: async () => (await import('./worker.ts')).registerWorker,
};

const program = new Command('pastiche').description(
  'DualStyleGAN portraits for Discord, Slack and a local playground',
);
// `pastiche` has no options of its own: the first word is the subcommand, if it is one.
const word = process.argv.slice(2).find((arg) => !arg.startsWith('-'));
const names =
  word !== undefined && Object.hasOwn(SUBCOMMANDS, word) ? [word] : Object.keys(SUBCOMMANDS);

try {
  const registers = await Promise.all(names.map((name) => SUBCOMMANDS[name]!()));
  for (const register of registers) register(program);
  await program.parseAsync();
} catch (error) {
  // Expected failures (a bad checkpoint, a broken pack, a bad setting) get one line; a bug gets
  // the generic line with a request id, and its stack under that id.
  const { describeError } = await import('../engine/index.ts');
  const { text } = describeError(error, 'operator', (bug, requestId) =>
    console.error(`ref ${requestId}:`, bug),
  );
  console.error(`error: ${text}`);
  process.exitCode = 1;
}
