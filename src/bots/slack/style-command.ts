/** `/style random [style]`, `/style list [style] [page]`, `/style forget`, `/style privacy`, `/style help`. */
import type { SlackCommandMiddlewareArgs } from '@slack/bolt';
import { callerOf, type SlackContext } from './context.ts';

type CommandArgs = Pick<SlackCommandMiddlewareArgs, 'command' | 'ack'>;

const USAGE =
  'Usage: `/style random [style]` (a random style on your photo, or a random portrait), ' +
  '`/style list [style] [page]`, `/style forget`, `/style privacy`, `/style help`. ' +
  'For a photo: `/stylize`.';

export function onStyleCommand(ctx: SlackContext) {
  return async function styleCommand({ command, ack }: CommandArgs): Promise<void> {
    const [sub = 'help', first, second] = command.text.trim().split(/\s+/).filter(Boolean);
    const { user_id: user, channel_id: channel, team_id: team } = command;
    const caller = callerOf(user, channel, team);
    const target = { channel, user, responseUrl: command.response_url };
    const { commands, store } = ctx;
    switch (sub.toLowerCase()) {
      case 'random':
        await ack();
        ctx.run(target, async (sink) => {
          // "Your last photo": the one just shared here, else the command layer's last one.
          const recent = await store.recentPhoto(channel, user);
          const photo = recent && (await ctx.download(recent));
          await commands.styleRandom(
            caller,
            { ...(photo && { photo }), ...(first && { pack: first }) },
            sink,
          );
        });
        return;
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
  };
}
