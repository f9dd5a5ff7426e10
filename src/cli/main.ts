/** The `pastiche` command. */
import { Command } from 'commander';
import { ConfigError } from '../config.ts';
import { CheckpointError } from '../engine/checkpoint/errors.ts';
import { PackError } from '../engine/pack/manifest.ts';
import { UserError } from '../engine/errors.ts';
import { registerDiscord } from './discord.ts';
import { registerModels } from './models.ts';
import { registerStart } from './start.ts';
import { registerStylize } from './stylize.ts';
import { registerWorker } from './worker.ts';

const program = new Command('pastiche').description(
  'DualStyleGAN portraits for Discord, Slack and a local playground',
);
registerModels(program);
registerStart(program);
registerStylize(program);
registerDiscord(program);
registerWorker(program);

try {
  await program.parseAsync();
} catch (error) {
  // Expected failures (a bad checkpoint, a broken pack) get one line, not a stack trace.
  if (error instanceof UserError) {
    console.error(`error: ${error.userMessage}${error.detail ? ` (${error.detail})` : ''}`);
    process.exitCode = 1;
  } else if (
    error instanceof CheckpointError ||
    error instanceof PackError ||
    error instanceof ConfigError
  ) {
    console.error(`error: ${error.message}`);
    process.exitCode = 1;
  } else {
    throw error;
  }
}
