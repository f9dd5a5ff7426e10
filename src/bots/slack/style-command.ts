/**
 * `/style random [style] [count:4]`, `/style blend <a> <b> [ratio] [strip]`, `/style list [style]
 * [page]`, `/style forget`, `/style privacy`, `/style help`.
 */
import type { SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { ReplySink, StyleBlendInput } from '../../commands/index.ts';
import { callerOf, type SlackContext } from './context.ts';
import type { ReplyTarget } from './replies.ts';

type CommandArgs = Pick<SlackCommandMiddlewareArgs, 'command' | 'ack'>;

const USAGE =
  'Usage: `/style random [style] [count:4]` (a random style on your photo, or a random ' +
  'portrait; `count:4` for a 2×2 grid to keep one from), `/style blend <a> <b> [ratio] [strip]` ' +
  '(two styles fused on your photo, e.g. `/style blend 3 7 0.3` or `/style blend cartoon:3 ' +
  'cartoon:random:1a:2b`), `/style list [style] [page]`, `/style forget`, `/style privacy`, ' +
  '`/style help`. For a photo: `/stylize`.';

/** Words the command could not read, named back to the one who typed them. */
class Unreadable extends Error {}

export function onStyleCommand(ctx: SlackContext) {
  return async function styleCommand({ command, ack }: CommandArgs): Promise<void> {
    const [sub = 'help', ...args] = command.text.trim().split(/\s+/).filter(Boolean);
    const [first, second] = args;
    const { user_id: user, channel_id: channel, team_id: team } = command;
    const caller = callerOf(user, channel, team);
    const target = { channel, user, responseUrl: command.response_url };
    const { commands } = ctx;
    try {
      switch (sub.toLowerCase()) {
        case 'random': {
          const input = randomInput(args);
          await ack();
          withRecentPhoto(ctx, target, (photo, sink) =>
            commands.styleRandom(caller, { ...input, ...(photo && { photo }) }, sink),
          );
          return;
        }
        case 'blend': {
          const input = blendInput(args);
          await ack();
          withRecentPhoto(ctx, target, (photo, sink) =>
            commands.styleBlend(caller, { ...input, ...(photo && { photo }) }, sink),
          );
          return;
        }
        case 'list': {
          await ack();
          const page = Number(second);
          const input = {
            ...(first && { pack: first }),
            ...(page >= 1 && { page: Math.floor(page) }),
          };
          ctx.run(target, (sink) => commands.styleList(caller, input, sink));
          return;
        }
        case 'forget':
          await ack();
          ctx.run(target, (sink) => commands.forget(caller, sink));
          return;
        case 'privacy':
          await ack();
          ctx.run(target, (sink) => commands.privacy(caller, sink));
          return;
        case 'help':
          await ack();
          ctx.run(target, (sink) => commands.help(caller, sink));
          return;
        default:
          await ack(`I don't know \`/style ${sub}\`. ${USAGE}`);
      }
    } catch (error) {
      if (!(error instanceof Unreadable)) throw error;
      // A typo is answered at once, only to its author.
      await ack(`${error.message} ${USAGE}`);
    }
  };
}

/** Runs `work` on "your last photo": the one just shared here, else the command layer's last one. */
function withRecentPhoto(
  ctx: SlackContext,
  target: ReplyTarget,
  work: (photo: Uint8Array | undefined, sink: ReplySink) => Promise<void>,
): void {
  ctx.run(target, async (sink) => {
    const recent = await ctx.store.recentPhoto(target.channel, target.user);
    const photo = recent && (await ctx.download(recent));
    await work(photo, sink);
  });
}

/** `[style] [count:4]` (or `count=4`). */
function randomInput(args: readonly string[]): { pack?: string; count?: number } {
  const input: { pack?: string; count?: number } = {};
  for (const word of args) {
    const count = /^count[:=](.*)$/i.exec(word);
    if (count) {
      const n = Number(count[1]);
      if (n !== 1 && n !== 4) throw new Unreadable(`count must be 1 or 4, not "${count[1]}".`);
      input.count = n;
    } else if (input.pack === undefined) input.pack = word;
    else throw new Unreadable(`I don't understand "${word}".`);
  }
  return input;
}

/** `<a> <b> [ratio] [strip]`; a and b are exemplar ids or names of the default style, or references. */
function blendInput(args: readonly string[]): StyleBlendInput {
  const [a, b, ...rest] = args;
  if (!a || !b) throw new Unreadable('`/style blend` needs two styles.');
  const input: StyleBlendInput = { a, b };
  for (const word of rest) {
    const ratio = /^(?:ratio[:=])?([\d.]+)$/i.exec(word);
    if (word.toLowerCase() === 'strip') input.strip = true;
    else if (ratio && Number(ratio[1]) >= 0 && Number(ratio[1]) <= 1)
      input.ratio = Number(ratio[1]);
    else if (ratio) throw new Unreadable(`The ratio must be from 0 to 1, not "${ratio[1]}".`);
    else throw new Unreadable(`I don't understand "${word}".`);
  }
  return input;
}
