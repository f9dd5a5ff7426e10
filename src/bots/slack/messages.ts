/**
 * Photos in messages: `@Pastiche [style]` with an image (in a thread under it), an image sent
 * to the bot in a DM, and the photos people share in channels, remembered for a few minutes so
 * `/stylize` can offer them (the `/stylize` modal cannot see the channel's files).
 */
import type { SlackEventMiddlewareArgs } from '@slack/bolt';
import { callerOf, type SlackContext } from './context.ts';
import { firstImage, withFileInfo, type PhotoRef, type SlackFile } from './photos.ts';
import type { ReplyTarget } from './replies.ts';
import { parseStyleText } from './text-options.ts';

type MentionArgs = Pick<SlackEventMiddlewareArgs<'app_mention'>, 'event' | 'body'>;
type MessageArgs = Pick<SlackEventMiddlewareArgs<'message'>, 'event' | 'body'>;

/** The fields of a message event read here; Slack's union of message subtypes, flattened. */
interface PhotoMessage {
  user?: string;
  bot_id?: string;
  text?: string;
  ts: string;
  channel: string;
  channel_type?: string;
  files?: SlackFile[];
}

/**
 * `@Pastiche cartoon:26` with a photo; without one, the photo the user just shared in the
 * channel, else (in the command layer) the last photo they sent.
 */
export function onAppMention(ctx: SlackContext) {
  return async function appMention({ event, body }: MentionArgs): Promise<void> {
    if (!event.user || event.bot_id) return;
    const target = {
      channel: event.channel,
      threadTs: event.thread_ts ?? event.ts,
      user: event.user,
    };
    const photo =
      firstImage(await withFileInfo(ctx.client, event.files)) ??
      (await ctx.store.recentPhoto(event.channel, event.user));
    stylizeFrom(ctx, target, event.text, photo, body.team_id);
  };
}

/** A DM with a photo runs `stylize`; a photo in a channel is remembered for `/stylize`. */
export function onMessage(ctx: SlackContext) {
  return async function message({ event, body }: MessageArgs): Promise<void> {
    const m = event as PhotoMessage;
    if (!m.user || m.bot_id || !m.files?.length) return;
    const photo = firstImage(await withFileInfo(ctx.client, m.files));
    if (!photo) return;
    if (m.channel_type === 'im') {
      stylizeFrom(ctx, { channel: m.channel, user: m.user }, m.text ?? '', photo, body.team_id);
      return;
    }
    await ctx.store.setRecentPhoto(m.channel, m.user, { ...photo, sharedAt: Date.now() });
  };
}

function stylizeFrom(
  ctx: SlackContext,
  target: ReplyTarget,
  text: string,
  photo: PhotoRef | undefined,
  team: string | undefined,
): void {
  const caller = callerOf(target.user, target.channel, team);
  if (/^(<@[^>]+>\s*)*help\s*$/i.test(text.trim())) {
    ctx.run(target, (sink) => ctx.commands.help(caller, sink));
    return;
  }
  ctx.run(target, async (sink) => {
    const options = parseStyleText(text);
    const bytes = photo && (await ctx.download(photo));
    await ctx.commands.stylize(caller, { ...options, ...(bytes && { photo: bytes }) }, sink);
  });
}
