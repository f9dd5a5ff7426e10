/**
 * Routes interactions to commands: slash commands, context menus, autocomplete and buttons.
 * Every handler acknowledges first (defer, or an ephemeral refusal after in-memory and cheap
 * store checks), then does the slow I/O.
 */
import {
  MessageFlags,
  PermissionFlagsBits,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type Interaction,
} from 'discord.js';
import type { ReplySink, StylizeInput } from '../../commands/index.ts';
import type { EncoderChoice, WeightPreset } from '../../engine/index.ts';
import { answerAutocomplete } from './autocomplete.ts';
import { interactionCaller, jobView, type Deps } from './context.ts';
import { NAMES, OPTIONS } from './definitions.ts';
import { parseButtonId, type MessageRef } from './ids.ts';
import {
  publicJob,
  replyPrivately,
  sourceOf,
  stylizeAvatar,
  stylizeMessagePhoto,
  withPhotos,
} from './photos.ts';
import { permissionRefusal } from './permissions.ts';
import { InteractionSurface } from './surface.ts';
import { wholePhotoButton } from './whole-photo.ts';

export async function onInteraction(interaction: Interaction, deps: Deps): Promise<void> {
  if (interaction.isAutocomplete()) {
    const styles = deps.commands.styles();
    await answerAutocomplete(interaction, styles, deps.config.models.defaultStyle);
  } else if (interaction.isChatInputCommand()) {
    await onSlash(interaction, deps);
  } else if (interaction.isMessageContextMenuCommand()) {
    if (interaction.commandName === NAMES.photoMenu) {
      await stylizeMessagePhoto(interaction, interaction.targetMessage, deps);
    }
  } else if (interaction.isUserContextMenuCommand()) {
    if (interaction.commandName === NAMES.avatarMenu) {
      const target = { user: interaction.targetUser, member: interaction.targetMember };
      await stylizeAvatar(interaction, target, deps);
    }
  } else if (interaction.isButton()) {
    await onButton(interaction, deps);
  }
}

async function onSlash(i: ChatInputCommandInteraction, deps: Deps): Promise<void> {
  const { commands } = deps;
  const caller = interactionCaller(i);
  const pack = i.options.getString(OPTIONS.style) ?? undefined;
  if (i.commandName === NAMES.stylize) {
    const exemplar = i.options.getString(OPTIONS.exemplar) ?? undefined;
    // `style:` takes a pack name, or a style reference a result printed (`cartoon:26`, …).
    const reference = pack?.includes(':') ? pack : undefined;
    const size = i.options.getInteger(OPTIONS.size) ?? undefined;
    const preset = i.options.getString(OPTIONS.preset);
    const encoder = i.options.getString(OPTIONS.encoder);
    const input: StylizeInput = {
      ...(reference ? { style: reference } : { pack }),
      exemplar: exemplar && /^\d+$/.test(exemplar) ? Number(exemplar) : exemplar,
      structure: i.options.getNumber(OPTIONS.structure) ?? undefined,
      color: i.options.getNumber(OPTIONS.color) ?? undefined,
      preserveColor: i.options.getBoolean(OPTIONS.preserveColor) ?? undefined,
      size,
      wholePhoto: i.options.getBoolean(OPTIONS.wholePhoto) ?? undefined,
      allFaces: i.options.getBoolean(OPTIONS.allFaces) ?? undefined,
      // Discord offers only the choices; any other value is refused by the engine's check.
      preset: (preset ?? undefined) as WeightPreset | undefined,
      truncation: i.options.getNumber(OPTIONS.truncation) ?? undefined,
      reconstruct: i.options.getBoolean(OPTIONS.reconstruct) ?? undefined,
      encoder: (encoder ?? undefined) as EncoderChoice | undefined,
    };
    // No photo: the command uses the caller's last one (the check says if there is none).
    const sources = {
      photo: sourceOf(i.options.getAttachment(OPTIONS.photo)),
      styleImage: sourceOf(i.options.getAttachment(OPTIONS.styleImage)),
    };
    // A reference names its own pack, which the command checks; here the default one stands in.
    const check = {
      command: 'stylize',
      ...(!reference && { pack }),
      photo: sources.photo !== undefined,
      size,
    } as const;
    await withPhotos(i, deps, sources, check, (photos, sink) =>
      commands.stylize(caller, { ...input, ...photos }, sink),
    );
    return;
  }
  if (i.commandName === NAMES.help) {
    const help = async (sink: ReplySink): Promise<void> => {
      // Help and the privacy statement in one message: /help is where people look for both.
      const texts: string[] = [];
      const collect: ReplySink = (reply) => void texts.push(reply.text);
      await commands.help(caller, collect);
      await commands.privacy(caller, collect);
      await sink({ kind: 'info', text: texts.join('\n\n') });
    };
    await privately(i, deps, help, { embeds: true });
    return;
  }
  if (i.commandName === NAMES.settings) {
    await settings(i, deps);
    return;
  }
  if (i.commandName !== NAMES.style) return;
  switch (i.options.getSubcommand()) {
    case NAMES.random: {
      const count = i.options.getInteger(OPTIONS.count) ?? undefined;
      await withPhotos(
        i,
        deps,
        { photo: sourceOf(i.options.getAttachment(OPTIONS.photo)) },
        { command: 'styleRandom', pack },
        (p, sink) => commands.styleRandom(caller, { photo: p.photo, pack, count }, sink),
      );
      return;
    }
    case NAMES.blend: {
      const photo = sourceOf(i.options.getAttachment(OPTIONS.photo));
      const input = {
        a: i.options.getString(OPTIONS.a, true),
        b: i.options.getString(OPTIONS.b, true),
        ratio: i.options.getNumber(OPTIONS.ratio) ?? undefined,
        strip: i.options.getBoolean(OPTIONS.strip) ?? undefined,
      };
      // Like a stylize: limits and a photo to use; the styles are checked when it runs.
      await withPhotos(i, deps, { photo }, { command: 'stylize', photo: !!photo }, (p, sink) =>
        commands.styleBlend(caller, { ...input, photo: p.photo }, sink),
      );
      return;
    }
    case NAMES.list: {
      const page = i.options.getInteger(OPTIONS.page) ?? undefined;
      const list = (sink: ReplySink): Promise<void> =>
        commands.styleList(caller, { pack, page }, sink);
      await privately(i, deps, list, { embeds: true });
      return;
    }
    case NAMES.forget:
      await privately(i, deps, (sink) => commands.forget(caller, sink));
  }
}

/**
 * An ephemeral command: deferred as ephemeral, so every reply (errors too) is private. Help and
 * the style list are embeds with pictures: refused at once where the bot may not post those.
 */
async function privately(
  i: ChatInputCommandInteraction | ButtonInteraction,
  deps: Deps,
  run: (sink: ReplySink) => Promise<void>,
  { embeds = false } = {},
): Promise<void> {
  // Ephemeral replies never fall back to the channel: only what the webhook needs counts.
  const denied = embeds && permissionRefusal(i, false);
  if (denied) return replyPrivately(i, denied);
  await i.deferReply({ flags: MessageFlags.Ephemeral });
  const view = jobView(new InteractionSurface(i, deps.log), deps, {
    caller: interactionCaller(i),
    channel: () => i.channel,
  });
  await run(view.sink);
  await view.done();
}

/** `/settings`: shows, and with an option changes, this server's settings; managers only. */
async function settings(i: ChatInputCommandInteraction, deps: Deps): Promise<void> {
  // Discord hides the command from others by default, but a server can change who sees it.
  if (!i.guildId || !i.memberPermissions?.has(PermissionFlagsBits.ManageGuild)) {
    return replyPrivately(i, 'Only someone who can manage this server can change its settings.');
  }
  const avatars = i.options.getBoolean(OPTIONS.avatars);
  if (avatars !== null) await deps.results.setAvatarsAllowed(i.guildId, avatars);
  const on = await deps.results.avatarsAllowed(i.guildId);
  await replyPrivately(
    i,
    `Stylizing other members' avatars: **${on ? 'on' : 'off'}**` +
      (on ? ' (the member shown may delete the result).' : '.'),
  );
}

async function onButton(i: ButtonInteraction, deps: Deps): Promise<void> {
  const action = parseButtonId(i.customId);
  if (!action) return;
  const { commands } = deps;
  const caller = interactionCaller(i);
  const { jobId } = action;
  switch (action.kind) {
    case 'reroll': {
      // A new public message under the result: the old result stays, as in a gallery.
      const input = { jobId, mode: action.mode };
      const photoSource = sourceOfResult(i);
      await publicJob(
        i,
        deps,
        { command: 'reroll', ...input },
        (sink) => commands.reroll(caller, input, sink),
        photoSource ? { photoSource } : {},
      );
      return;
    }
    case 'pick': {
      const input = { jobId, tile: action.tile };
      await publicJob(i, deps, { command: 'pick', ...input }, (sink) =>
        commands.pick(caller, input, sink),
      );
      return;
    }
    case 'whole':
      await wholePhotoButton(i, deps, jobId, action.source);
      return;
    case 'cancel':
      await privately(i, deps, (sink) => commands.cancel(caller, { jobId }, sink));
      return;
    case 'delete':
      if ((await deps.results.subjectOf(i.message.id)) === i.user.id) {
        // Their avatar, someone else's job: the message goes; the job record is the author's.
        await privately(i, deps, async (sink) => {
          await i.message.delete().catch((e: unknown) => deps.log(`discord: delete: ${e}`));
          await deps.results.forget(i.message.id);
          await sink({ kind: 'info', text: 'Deleted.' });
        });
        return;
      }
      await privately(i, deps, (sink) =>
        commands.deleteResult(caller, { jobId }, async (reply) => {
          // `info` means the record is gone: the message goes with it.
          if (reply.kind === 'info') {
            await i.message.delete().catch((e: unknown) => deps.log(`discord: delete: ${e}`));
            await deps.results.forget(i.message.id);
          }
          await sink(reply);
        }),
      );
  }
}

/** The photo's source message a result's whole-photo button names: its re-rolls keep it. */
function sourceOfResult(i: ButtonInteraction): MessageRef | undefined {
  for (const row of i.message.components) {
    if (!('components' in row)) continue;
    for (const c of row.components) {
      const action = 'customId' in c && c.customId ? parseButtonId(c.customId) : undefined;
      if (action?.kind === 'whole' && action.source) return action.source;
    }
  }
  return undefined;
}
