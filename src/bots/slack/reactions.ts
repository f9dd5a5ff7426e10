/**
 * Re-rolls by reaction on a result message: 🎲 `game_die` or 🔁 `repeat` a new style, 🧬 `dna`
 * the structure only, 🎨 `art` the colours only, 🔀 `twisted_rightwards_arrows` fused with a new
 * style. The message → job map lives in keyv, so this works on results posted before a
 * restart; reactions on any other message are ignored.
 */
import type { SlackEventMiddlewareArgs, Context } from '@slack/bolt';
import type { RerollMode } from '../../commands/index.ts';
import { callerOf, type SlackContext } from './context.ts';

type ReactionArgs = Pick<SlackEventMiddlewareArgs<'reaction_added'>, 'event' | 'body'> & {
  context: Pick<Context, 'botUserId'>;
};

const MODES: Readonly<Record<string, RerollMode>> = {
  game_die: 'style',
  repeat: 'style',
  dna: 'structure',
  art: 'color',
  twisted_rightwards_arrows: 'fuse',
};

export function onReactionAdded(ctx: SlackContext) {
  return async function reactionAdded({ event, body, context }: ReactionArgs): Promise<void> {
    const mode = Object.hasOwn(MODES, event.reaction) ? MODES[event.reaction] : undefined;
    // The bot's own reactions (it once seeded 🎲 on results) are not requests.
    if (!mode || event.item.type !== 'message' || event.user === context.botUserId) return;
    const { channel, ts } = event.item;
    const result = await ctx.store.result(channel, ts);
    if (!result) return;
    const caller = callerOf(event.user, channel, body.team_id);
    const target = {
      channel,
      user: event.user,
      ...(result.threadTs && { threadTs: result.threadTs }),
    };
    ctx.run(target, (sink) => ctx.commands.reroll(caller, { jobId: result.jobId, mode }, sink));
  };
}
