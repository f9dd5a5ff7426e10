/**
 * The application commands, as `discord register` uploads them. The router (interactions.ts)
 * reads options by the names defined here.
 */
import {
  ApplicationCommandType,
  ApplicationIntegrationType,
  ContextMenuCommandBuilder,
  InteractionContextType,
  PermissionFlagsBits,
  SlashCommandBuilder,
  type RESTPutAPIApplicationCommandsJSONBody,
  type SlashCommandAttachmentOption,
  type SlashCommandNumberOption,
  type SlashCommandStringOption,
} from 'discord.js';
import { encoderChoice, WEIGHT_PRESETS, type WeightPreset } from '../../engine/index.ts';

export const NAMES = {
  stylize: 'stylize',
  style: 'style',
  random: 'random',
  blend: 'blend',
  list: 'list',
  forget: 'forget',
  help: 'help',
  photoMenu: 'Stylize photo',
  avatarMenu: 'Stylize avatar',
  settings: 'settings',
} as const;

export const OPTIONS = {
  photo: 'photo',
  style: 'style',
  exemplar: 'exemplar',
  structure: 'structure',
  color: 'color',
  preserveColor: 'preserve_color',
  styleImage: 'style_image',
  size: 'size',
  wholePhoto: 'whole_photo',
  allFaces: 'all_faces',
  preset: 'preset',
  truncation: 'truncation',
  reconstruct: 'reconstruct',
  encoder: 'encoder',
  a: 'a',
  b: 'b',
  ratio: 'ratio',
  strip: 'strip',
  count: 'count',
  page: 'page',
  avatars: 'avatars',
} as const;

/**
 * Installable on a server (the bot joins it) and by a user (their commands work anywhere, the
 * bot joins nothing); usable in servers, in DMs with the bot, and in other DMs and group DMs.
 * Where only a user installed it, the bot answers through the interaction alone: see surface.ts.
 */
export const INTEGRATION_TYPES = [
  ApplicationIntegrationType.GuildInstall,
  ApplicationIntegrationType.UserInstall,
];
export const CONTEXTS = [
  InteractionContextType.Guild,
  InteractionContextType.BotDM,
  InteractionContextType.PrivateChannel,
];

const photo = (o: SlashCommandAttachmentOption, required: boolean): SlashCommandAttachmentOption =>
  o
    .setName(OPTIONS.photo)
    .setDescription(
      required ? 'A photo with a face' : 'A photo with a face (default: your last one)',
    )
    .setRequired(required);

const style = (o: SlashCommandStringOption): SlashCommandStringOption =>
  o.setName(OPTIONS.style).setDescription('The style pack').setAutocomplete(true);

/** A style a result printed (`cartoon:26`, `cartoon:random:1a:2b`, `result:<id>`), or a pack. */
const styleRef = (o: SlashCommandStringOption): SlashCommandStringOption =>
  o
    .setName(OPTIONS.style)
    .setDescription('A style pack, or a style a result printed: cartoon:26, result:<id>…')
    .setAutocomplete(true);

/** A side of a blend: an exemplar id of the default style, or any style reference. */
const blendSide =
  (name: string, what: string) =>
  (o: SlashCommandStringOption): SlashCommandStringOption =>
    o
      .setName(name)
      .setDescription(`${what}: an exemplar (cartoon:26) or a style a result printed`)
      .setRequired(true)
      .setAutocomplete(true);

/** Each preset with what it does, as Discord shows a choice (≤ 100 characters). */
const PRESET_CHOICES = (Object.keys(WEIGHT_PRESETS) as WeightPreset[]).map((value) => ({
  name: `${value}: ${WEIGHT_PRESETS[value].description}`.slice(0, 100),
  value,
}));

const ENCODER_WORDS: Record<(typeof encoderChoice.options)[number], string> = {
  identity: 'identity: keeps more of your face (W+)',
  style: 'style: the original encoder',
};

const weight =
  (name: string, what: string) =>
  (o: SlashCommandNumberOption): SlashCommandNumberOption =>
    o
      .setName(name)
      .setDescription(`How much of the exemplar's ${what} (0–1)`)
      .setMinValue(0)
      .setMaxValue(1);

/** Every command's JSON, for the bulk overwrite. */
export function commandDefinitions(): RESTPutAPIApplicationCommandsJSONBody {
  const stylize = new SlashCommandBuilder()
    .setName(NAMES.stylize)
    .setDescription('Turn a photo into a portrait in the style of an exemplar')
    .setIntegrationTypes(INTEGRATION_TYPES)
    .setContexts(CONTEXTS)
    .addAttachmentOption((o) => photo(o, false))
    .addStringOption(styleRef)
    .addStringOption((o) =>
      o
        .setName(OPTIONS.exemplar)
        .setDescription('Exemplar name or id within the style, or "random"')
        .setAutocomplete(true),
    )
    .addNumberOption(weight(OPTIONS.structure, 'shapes'))
    .addNumberOption(weight(OPTIONS.color, 'colours'))
    .addBooleanOption((o) =>
      o.setName(OPTIONS.preserveColor).setDescription("Keep the photo's own colours"),
    )
    .addAttachmentOption((o) =>
      o.setName(OPTIONS.styleImage).setDescription('Use this image as the exemplar instead'),
    )
    .addIntegerOption((o) =>
      o
        .setName(OPTIONS.size)
        .setDescription("Output size in pixels (default: the style's own)")
        .setAutocomplete(true),
    )
    .addBooleanOption((o) =>
      o.setName(OPTIONS.wholePhoto).setDescription('Paste the portrait back into the whole photo'),
    )
    .addBooleanOption((o) =>
      o.setName(OPTIONS.allFaces).setDescription('Every face of a group photo, in the whole photo'),
    )
    .addStringOption((o) =>
      o
        .setName(OPTIONS.preset)
        .setDescription('Named weights (instead of structure and color)')
        .addChoices(...PRESET_CHOICES),
    )
    .addNumberOption((o) =>
      o
        .setName(OPTIONS.truncation)
        .setDescription('Closer to the average face (0) or to yours (1)')
        .setMinValue(0)
        .setMaxValue(1),
    )
    .addBooleanOption((o) =>
      o
        .setName(OPTIONS.reconstruct)
        .setDescription('Your face as the model captured it, without any style'),
    )
    .addStringOption((o) =>
      o
        .setName(OPTIONS.encoder)
        .setDescription('Which encoder reads your face')
        .addChoices(
          ...encoderChoice.options.map((value) => ({ name: ENCODER_WORDS[value], value })),
        ),
    );
  const styleGroup = new SlashCommandBuilder()
    .setName(NAMES.style)
    .setDescription('Random styles, fusing two, the style list, and forgetting your photos')
    .setIntegrationTypes(INTEGRATION_TYPES)
    .setContexts(CONTEXTS)
    .addSubcommand((s) =>
      s
        .setName(NAMES.random)
        .setDescription('A random style on your photo, or a random portrait')
        .addAttachmentOption((o) => photo(o, false))
        .addStringOption(style)
        .addIntegerOption((o) =>
          o
            .setName(OPTIONS.count)
            .setDescription('4: a 2×2 grid of random styles, with buttons to keep one')
            .addChoices({ name: '1', value: 1 }, { name: '4 (a 2×2 grid)', value: 4 }),
        ),
    )
    .addSubcommand((s) =>
      s
        .setName(NAMES.blend)
        .setDescription('Two styles fused on your photo')
        .addStringOption(blendSide(OPTIONS.a, 'The first style'))
        .addStringOption(blendSide(OPTIONS.b, 'The second style'))
        .addNumberOption((o) =>
          o
            .setName(OPTIONS.ratio)
            .setDescription('0 is all a, 1 is all b (default 0.5)')
            .setMinValue(0)
            .setMaxValue(1),
        )
        .addBooleanOption((o) =>
          o.setName(OPTIONS.strip).setDescription('Six steps from a to b in one picture'),
        )
        .addAttachmentOption((o) => photo(o, false)),
    )
    .addSubcommand((s) =>
      s
        .setName(NAMES.list)
        .setDescription('The styles and a contact sheet of their exemplars')
        .addStringOption(style)
        .addIntegerOption((o) =>
          o.setName(OPTIONS.page).setDescription('Page of the contact sheet').setMinValue(1),
        ),
    )
    .addSubcommand((s) =>
      s.setName(NAMES.forget).setDescription('Delete everything I keep about your photos'),
    );
  const help = new SlashCommandBuilder()
    .setName(NAMES.help)
    .setDescription('What I can do, and what I keep about you')
    .setIntegrationTypes(INTEGRATION_TYPES)
    .setContexts(CONTEXTS);
  const photoMenu = new ContextMenuCommandBuilder()
    .setName(NAMES.photoMenu)
    .setType(ApplicationCommandType.Message)
    .setIntegrationTypes(INTEGRATION_TYPES)
    .setContexts(CONTEXTS);
  const avatarMenu = new ContextMenuCommandBuilder()
    .setName(NAMES.avatarMenu)
    .setType(ApplicationCommandType.User)
    .setIntegrationTypes(INTEGRATION_TYPES)
    .setContexts(CONTEXTS);
  // A server's own settings: only in a server that installed the bot, for those who manage it.
  const settings = new SlashCommandBuilder()
    .setName(NAMES.settings)
    .setDescription("This server's Pastiche settings")
    .setIntegrationTypes([ApplicationIntegrationType.GuildInstall])
    .setContexts([InteractionContextType.Guild])
    .setDefaultMemberPermissions(PermissionFlagsBits.ManageGuild)
    .addBooleanOption((o) =>
      o
        .setName(OPTIONS.avatars)
        .setDescription("Let members stylize each other's avatars (they may delete the result)"),
    );
  return [stylize, styleGroup, help, photoMenu, avatarMenu, settings].map((c) => c.toJSON());
}
