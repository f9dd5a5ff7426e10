/**
 * Replies → Discord messages: the status line with its Cancel button, the result with its image
 * and re-roll buttons, info as an embed (help is longer than a message's 2000 characters).
 */
import {
  ActionRowBuilder,
  AttachmentBuilder,
  ButtonBuilder,
  ButtonStyle,
  EmbedBuilder,
  type APIActionRowComponent,
  type APIComponentInMessageActionRow,
  type APIEmbed,
} from 'discord.js';
import type { Reply } from '../../commands/index.ts';
import type { EncodedImage } from '../../engine/index.ts';
import { buttonId, type ButtonAction } from './ids.ts';

/** A whole message: every field set, so an edit replaces what the message showed before. */
export interface Outgoing {
  content: string;
  embeds: APIEmbed[];
  components: APIActionRowComponent<APIComponentInMessageActionRow>[];
  files: AttachmentBuilder[];
}

type Of<K extends Reply['kind']> = Extract<Reply, { kind: K }>;

const CONTENT_MAX = 2000;
const EMBED_MAX = 4096;
const clip = (text: string, max: number): string =>
  text.length <= max ? text : `${text.slice(0, max - 1)}…`;

const EXTENSIONS: Record<EncodedImage['format'], string> = {
  jpeg: 'jpg',
  webp: 'webp',
  png: 'png',
};

function row(
  buttons: { action: ButtonAction; emoji: string; label: string; style?: ButtonStyle }[],
): APIActionRowComponent<APIComponentInMessageActionRow> {
  return new ActionRowBuilder<ButtonBuilder>()
    .addComponents(
      buttons.map((b) =>
        new ButtonBuilder()
          .setCustomId(buttonId(b.action))
          .setEmoji(b.emoji)
          .setLabel(b.label)
          .setStyle(b.style ?? ButtonStyle.Secondary),
      ),
    )
    .toJSON();
}

export function textMessage(text: string): Outgoing {
  return { content: clip(text, CONTENT_MAX), embeds: [], components: [], files: [] };
}

export function statusMessage(reply: Of<'status'>): Outgoing {
  const cancel = { kind: 'cancel', jobId: reply.jobId } as const;
  return {
    ...textMessage(`⏳ ${reply.text}`),
    components: [
      row([{ action: cancel, emoji: '✖️', label: 'Cancel', style: ButtonStyle.Danger }]),
    ],
  };
}

/** `image` is the reply's, possibly re-encoded to fit the upload limit. */
export function resultMessage(reply: Of<'result'>, image: EncodedImage): Outgoing {
  const { jobId } = reply;
  const name = `pastiche-${jobId}.${EXTENSIONS[image.format]}`;
  return {
    ...textMessage(reply.text),
    files: [new AttachmentBuilder(Buffer.from(image.bytes), { name })],
    components: [
      row([
        { action: { kind: 'reroll', mode: 'style', jobId }, emoji: '🎲', label: 'New style' },
        { action: { kind: 'reroll', mode: 'structure', jobId }, emoji: '🧬', label: 'Structure' },
        { action: { kind: 'reroll', mode: 'color', jobId }, emoji: '🎨', label: 'Colour' },
        {
          action: { kind: 'delete', jobId },
          emoji: '🗑️',
          label: 'Delete',
          style: ButtonStyle.Danger,
        },
      ]),
    ],
  };
}

export function infoMessage(reply: Of<'info'>): Outgoing {
  const embed = new EmbedBuilder().setDescription(clip(reply.text, EMBED_MAX));
  const files: AttachmentBuilder[] = [];
  if (reply.image) {
    const name = `sheet.${EXTENSIONS[reply.image.format]}`;
    files.push(new AttachmentBuilder(Buffer.from(reply.image.bytes), { name }));
    embed.setImage(`attachment://${name}`);
  }
  return { content: '', embeds: [embed.toJSON()], components: [], files };
}
