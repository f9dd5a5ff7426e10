/** The `pastiche` command. */
import { Command } from 'commander';
import { describeError } from '../engine/index.ts';
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
  // Expected failures (a bad checkpoint, a broken pack, a bad setting) get one line; a bug gets
  // the generic line with a request id, and its stack under that id.
  const { text } = describeError(error, 'operator', (bug, requestId) =>
    console.error(`ref ${requestId}:`, bug),
  );
  console.error(`error: ${text}`);
  process.exitCode = 1;
}
