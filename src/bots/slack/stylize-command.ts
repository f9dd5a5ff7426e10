/**
 * The ways into the modal: `/stylize [style] [options]` (with `/stylize help`), and the
 * "Stylize photo" message shortcut, which offers that message's photo.
 */
import type {
  MessageShortcut,
  SlackCommandMiddlewareArgs,
  SlackShortcutMiddlewareArgs,
} from '@slack/bolt';
import { randomInt } from 'node:crypto';
import type { StyleInfo } from '../../commands/index.ts';
import { UserError } from '../../engine/index.ts';
import { callerOf, type SlackContext } from './context.ts';
import { SlackUserError } from './errors.ts';
import { stylizeModal, type ModalInitial, type ModalMeta } from './modal.ts';
import { firstImage, withFileInfo, type SlackFile } from './photos.ts';
import { parseStyleText } from './text-options.ts';

export const SHORTCUT_ID = 'pastiche_stylize_photo';

type CommandArgs = Pick<SlackCommandMiddlewareArgs, 'command' | 'ack'>;
type ShortcutArgs = Pick<SlackShortcutMiddlewareArgs<MessageShortcut>, 'shortcut' | 'ack'>;

/** `/stylize …`: help, or the modal filled in from the text. */
export function onStylizeCommand(ctx: SlackContext) {
  return async function stylizeCommand({ command, ack }: CommandArgs): Promise<void> {
    const { user_id: user, channel_id: channel, team_id: team } = command;
    if (/^\s*help\s*$/i.test(command.text)) {
      await ack();
      const target = { channel, user, responseUrl: command.response_url };
      ctx.run(target, (sink) => ctx.commands.help(callerOf(user, channel, team), sink));
      return;
    }
    let initial: ModalInitial & { size?: number };
    try {
      initial = modalInitial(ctx, command.text);
    } catch (error) {
      if (!(error instanceof SlackUserError || error instanceof UserError)) throw error;
      // A typo in the text is answered at once, only to its author.
      await ack(error.userMessage);
      return;
    }
    await ack();
    const recent = await ctx.store.recentPhoto(channel, user);
    const { size, ...fields } = initial;
    const meta: ModalMeta = {
      channel,
      responseUrl: command.response_url,
      ...(recent && {
        offered: {
          url: recent.url,
          name: recent.name,
          label: `the photo you shared ${ago(recent.sharedAt)} (${recent.name})`,
        },
      }),
      ...(size !== undefined && { size }),
    };
    await openModal(ctx, command.trigger_id, user, meta, fields);
  };
}

/** "Stylize photo" on a message: the modal, offering that message's photo. */
export function onStylizeShortcut(ctx: SlackContext) {
  return async function stylizeShortcut({ shortcut, ack }: ShortcutArgs): Promise<void> {
    await ack();
    const { message, channel, user } = shortcut;
    const files = message['files'] as SlackFile[] | undefined;
    // files.info here eats into the trigger's 3 s, but only for Slack Connect files.
    const photo = firstImage(await withFileInfo(ctx.client, files));
    const target = { channel: channel.id, user: user.id, responseUrl: shortcut.response_url };
    if (!photo) {
      ctx.run(target, () => Promise.reject(new SlackUserError('no-image-in-message')));
      return;
    }
    const meta: ModalMeta = {
      channel: channel.id,
      threadTs: (message['thread_ts'] as string | undefined) ?? message.ts,
      responseUrl: shortcut.response_url,
      offered: { ...photo, label: `the photo in that message (${photo.name})` },
    };
    const initial = { pack: defaultPack(ctx) };
    await openModal(ctx, shortcut.trigger_id, user.id, meta, initial);
  };
}

async function openModal(
  ctx: SlackContext,
  triggerId: string,
  user: string,
  meta: ModalMeta,
  initial: ModalInitial,
): Promise<void> {
  try {
    await ctx.client.views.open({ trigger_id: triggerId, view: stylizeModal(meta, initial) });
  } catch (error) {
    // The trigger lasts 3 s; a slow store or network can outlive it.
    ctx.log(`slack: views.open failed: ${String(error)}`);
    const target = { channel: meta.channel, user, responseUrl: meta.responseUrl };
    ctx.run(target, () => Promise.reject(new SlackUserError('modal-failed')));
  }
}

/** The modal's starting values from `/stylize cartoon:26 structure=0.7 …`. */
function modalInitial(ctx: SlackContext, text: string): ModalInitial & { size?: number } {
  const { pack: name, exemplar, ...rest } = parseStyleText(text);
  const styles = ctx.commands.styles();
  const pack = name === undefined ? defaultPack(ctx) : styles.find((s) => s.name === name);
  if (name !== undefined && !pack) {
    throw new SlackUserError(
      'bad-text',
      `I don't know the style "${name}". Installed: ${styles.map((s) => s.name).join(', ') || 'none'}.`,
    );
  }
  return {
    ...(pack && { pack }),
    ...(pack && exemplar !== undefined && { exemplar: exemplarId(pack, exemplar) }),
    ...rest,
  };
}

function exemplarId(pack: StyleInfo, exemplar: string | number): number {
  if (exemplar === 'random') return randomInt(pack.exemplars.length);
  const id = typeof exemplar === 'number' ? exemplar : pack.exemplars.indexOf(exemplar);
  if (pack.exemplars[id] === undefined) throw new UserError('unknown-exemplar', String(exemplar));
  return id;
}

/** The configured default style when installed, else the first one (as the commands pick). */
function defaultPack(ctx: SlackContext): StyleInfo | undefined {
  const styles = ctx.commands.styles();
  return styles.find((s) => s.name === ctx.config.models.defaultStyle) ?? styles[0];
}

function ago(at: number): string {
  const minutes = Math.round((Date.now() - at) / 60_000);
  return minutes < 1 ? 'just now' : `${minutes} min ago`;
}
