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

export const NAMES = {
  stylize: 'stylize',
  style: 'style',
  random: 'random',
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
    .addStringOption(style)
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
    );
  const styleGroup = new SlashCommandBuilder()
    .setName(NAMES.style)
    .setDescription('Random styles, the style list, and forgetting your photos')
    .setIntegrationTypes(INTEGRATION_TYPES)
    .setContexts(CONTEXTS)
    .addSubcommand((s) =>
      s
        .setName(NAMES.random)
        .setDescription('A random style on your photo, or a random portrait')
        .addAttachmentOption((o) => photo(o, false))
        .addStringOption(style),
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
