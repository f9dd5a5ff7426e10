/**
 * Failures only the Slack adapter meets (a download Slack answered with a login page, a
 * `/stylize` line it cannot read). Like the engine's `UserError`, each has a code and the
 * sentence comes from one table, so nothing matches on error strings.
 */
import { PasticheError } from '../../engine/index.ts';

export type SlackErrorCode =
  | 'files-scope'
  | 'download-failed'
  | 'not-slack-file'
  | 'no-image-in-message'
  | 'modal-failed'
  | 'not-in-channel'
  | 'bad-text'
  | 'photo-needed';

const MESSAGES: Record<SlackErrorCode, (detail: string) => string> = {
  'files-scope': () =>
    "I couldn't download that photo: Slack answered with a login page instead of the file. " +
    'The app needs the `files:read` scope (add it under OAuth & Permissions and reinstall the ' +
    'app), and SLACK_BOT_TOKEN must be its bot token (xoxb-…).',
  'download-failed': (detail) =>
    `I couldn't download that photo from Slack (${detail}). Share it again and retry.`,
  'not-slack-file': () =>
    "That file isn't stored on Slack, so I can't download it. Upload the photo to Slack itself.",
  'no-image-in-message': () =>
    'That message has no photo I can read. Use "Stylize photo" on a message with a JPEG, PNG or WebP.',
  'modal-failed': () => "I couldn't open the form in time. Try the command again.",
  'not-in-channel': () =>
    "I can't post in this channel. Invite me first (`/invite @Pastiche`, or the channel's " +
    'Integrations tab), then try again.',
  'photo-needed': () =>
    'To paint the whole photo I need the photo itself, and I keep photos only a few minutes after ' +
    'they are sent. Share the photo here again, then use `/stylize whole` (or tick *Whole photo* ' +
    'in the form).',
  'bad-text': (detail) =>
    `${detail}\nUsage: \`/stylize [style[:exemplar] or a result's style reference] [structure=0–1] ` +
    '[colour=0–1] [preserve] [size=px] [whole] [all-faces] [preset=colour-only] [truncation=0–1] ' +
    '[reconstruct] [encoder=identity|style]`, for example `/stylize cartoon:26 structure=0.7 whole`.',
};

export class SlackUserError extends PasticheError {
  override readonly name = 'SlackUserError';
  override readonly forUsers = true;

  constructor(
    readonly code: SlackErrorCode,
    /** Part of the sentence for `bad-text` and `download-failed`; never a secret. */
    readonly detail = '',
  ) {
    super(MESSAGES[code](detail));
  }

  /** The sentence to show: what happened and what to do. */
  override get userMessage(): string {
    return this.message;
  }
}
