/**
 * The App Home tab: the user's latest results (each with Delete), the installed styles with
 * their contact sheets, and the privacy statement with a "Forget my photos" button. Published
 * with `views.publish` when the user opens the tab, and again after each of its buttons.
 */
import type {
  BlockAction,
  ButtonAction,
  SlackActionMiddlewareArgs,
  SlackEventMiddlewareArgs,
  types,
} from '@slack/bolt';
import type { Caller, JobRecord, Reply, StyleInfo } from '../../commands/index.ts';
import { deleteResult } from './actions.ts';
import { ACTION } from './actions-ids.ts';
import { callerOf, type SlackContext } from './context.ts';
import type { PostedResult } from './store.ts';

type HomeArgs = Pick<SlackEventMiddlewareArgs<'app_home_opened'>, 'event' | 'body'>;
type ButtonArgs = Pick<
  SlackActionMiddlewareArgs<BlockAction<ButtonAction>>,
  'ack' | 'body' | 'action'
>;

/** A Home view holds at most 100 blocks: two per style, one per result, a dozen more. */
const MAX_STYLES = 30;
/** Where Home's commands run, for the limits' per-channel count (Home has no channel). */
const HOME_CHANNEL = 'app_home';

const plain = (text: string): types.PlainTextElement => ({ type: 'plain_text', text, emoji: true });
const mrkdwn = (text: string): types.MrkdwnElement => ({ type: 'mrkdwn', text });
const confirm = (title: string, text: string, yes: string): types.ConfirmationDialog => ({
  title: plain(title),
  text: plain(text),
  confirm: plain(yes),
  deny: plain('Keep'),
  style: 'danger',
});

/** `app_home_opened` on the Home tab (the Messages tab opens the DM instead). */
export function onAppHomeOpened(ctx: SlackContext) {
  return async function appHomeOpened({ event, body }: HomeArgs): Promise<void> {
    if (event.tab !== 'home') return;
    await publishHome(ctx, callerOf(event.user, HOME_CHANNEL, body.team_id));
  };
}

/** "Show contact sheet": renders the pack's sheet, uploads it once, shows it in Home. */
export function onHomeSheet(ctx: SlackContext) {
  return async function homeSheet({ ack, body, action }: ButtonArgs): Promise<void> {
    await ack();
    const caller = homeCaller(body);
    const pack = ctx.commands.styles().find((s) => s.name === action.value);
    if (!pack) return;
    ctx.spawn(async () => {
      // A Home published before the sheet existed still offers the button.
      if (await ctx.store.sheetFile(sheetKey(pack))) return publishHome(ctx, caller);
      const replies: Reply[] = [];
      await ctx.commands.styleList(caller, { pack: pack.name }, (reply) => {
        replies.push(reply);
      });
      const sheet = replies.find((r) => r.kind === 'info' && r.image);
      if (sheet?.kind !== 'info' || !sheet.image) {
        await publishHome(ctx, caller, textOf(replies));
        return;
      }
      const uploaded = await ctx.client.filesUploadV2({
        file: Buffer.from(sheet.image.bytes),
        filename: `pastiche-${pack.name}-sheet.${sheet.image.format === 'jpeg' ? 'jpg' : sheet.image.format}`,
        title: `${pack.name} contact sheet`,
      });
      const fileId = uploaded.files[0]?.files?.[0]?.id;
      if (fileId) await ctx.store.setSheetFile(sheetKey(pack), fileId);
      await publishHome(ctx, caller);
    });
  };
}

/** "Forget my photos": the `forget` command, its answer shown at the top of Home. */
export function onHomeForget(ctx: SlackContext) {
  return async function homeForget({ ack, body }: ButtonArgs): Promise<void> {
    await ack();
    const caller = homeCaller(body);
    ctx.spawn(async () => {
      const replies: Reply[] = [];
      await ctx.commands.forget(caller, (reply) => {
        replies.push(reply);
      });
      await publishHome(ctx, caller, textOf(replies));
    });
  };
}

/** Delete beside a result in Home: as the result's own Delete button. */
export function onHomeDelete(ctx: SlackContext) {
  return async function homeDelete({ ack, body, action }: ButtonArgs): Promise<void> {
    await ack();
    const caller = homeCaller(body);
    const jobId = action.value;
    if (!jobId) return;
    ctx.spawn(async () => {
      const replies: Reply[] = [];
      await deleteResult(ctx, caller, jobId, (reply) => {
        replies.push(reply);
      });
      await publishHome(ctx, caller, textOf(replies));
    });
  };
}

function homeCaller(body: BlockAction): Caller {
  return callerOf(body.user.id, HOME_CHANNEL, body.team?.id);
}

function textOf(replies: readonly Reply[]): string {
  return replies
    .flatMap((r) => (r.kind === 'info' || r.kind === 'error' ? [r.text] : []))
    .join('\n');
}

/** Builds the user's Home from the store and the commands, and publishes it. */
export async function publishHome(ctx: SlackContext, caller: Caller, notice = ''): Promise<void> {
  const posted = await ctx.store.recentResults(caller.userId);
  const results = (
    await Promise.all(
      posted.map(async (p) => {
        const record = await ctx.commands.job(p.jobId);
        return record ? [{ posted: p, record }] : [];
      }),
    )
  ).flat();
  const styles = ctx.commands.styles().slice(0, MAX_STYLES);
  const sheets = await Promise.all(styles.map((s) => ctx.store.sheetFile(sheetKey(s))));
  const privacy: Reply[] = [];
  await ctx.commands.privacy(caller, (reply) => {
    privacy.push(reply);
  });
  const view = homeView({
    notice,
    results,
    styles: styles.map((style, i) => ({ style, sheetFileId: sheets[i] })),
    privacy: textOf(privacy),
  });
  await ctx.client.views.publish({ user_id: caller.userId, view });
}

/** A pack's sheet key: a new version of the pack (as the engine reports it) gets a new sheet. */
export function sheetKey(pack: StyleInfo): string {
  return `${pack.name}:${pack.version}`;
}

export interface HomeData {
  notice: string;
  results: readonly { posted: PostedResult; record: JobRecord }[];
  styles: readonly { style: StyleInfo; sheetFileId: string | undefined }[];
  privacy: string;
}

/** The Home view (pure). */
export function homeView(data: HomeData): types.HomeView {
  const blocks: types.KnownBlock[] = [{ type: 'header', text: plain('Pastiche') }];
  if (data.notice) blocks.push({ type: 'section', text: mrkdwn(data.notice) });
  blocks.push({ type: 'header', text: plain('Your latest results') });
  if (data.results.length === 0) {
    blocks.push({
      type: 'context',
      elements: [mrkdwn('None yet: use `/stylize`, or send me a photo in a DM.')],
    });
  }
  for (const { posted, record } of data.results) {
    blocks.push({
      type: 'section',
      text: mrkdwn(`${when(record.createdAt)} in <#${posted.channel}>: ${describe(record)}`),
      accessory: {
        type: 'button',
        action_id: ACTION.homeDelete,
        text: plain('Delete'),
        value: record.jobId,
        confirm: confirm('Delete this result?', 'Its message and image go too.', 'Delete'),
      },
    });
  }
  blocks.push({ type: 'divider' }, { type: 'header', text: plain('Styles') });
  for (const { style, sheetFileId } of data.styles) {
    const text = mrkdwn(
      `*${style.name}*: ${style.exemplars.length} exemplars, ${style.size} px` +
        `${style.hasSampler ? ', random styles' : ''}. Licence: ${style.licence}`,
    );
    if (sheetFileId) {
      blocks.push(
        { type: 'section', text },
        { type: 'image', slack_file: { id: sheetFileId }, alt_text: `${style.name} exemplars` },
      );
    } else {
      blocks.push({
        type: 'section',
        text,
        accessory: {
          type: 'button',
          action_id: ACTION.homeSheet,
          text: plain('Show contact sheet'),
          value: style.name,
        },
      });
    }
  }
  blocks.push(
    { type: 'divider' },
    { type: 'header', text: plain('Your privacy') },
    { type: 'section', text: mrkdwn(data.privacy) },
    {
      type: 'actions',
      elements: [
        {
          type: 'button',
          action_id: ACTION.homeForget,
          text: plain('Forget my photos'),
          style: 'danger',
          value: 'forget',
          confirm: confirm(
            'Forget your photos?',
            'Re-rolling your results will need the photo again.',
            'Forget',
          ),
        },
      ],
    },
  );
  return { type: 'home', blocks };
}

/** Slack renders `<!date…>` in the reader's own time zone. */
function when(iso: string): string {
  const seconds = Math.floor(Date.parse(iso) / 1000);
  return `<!date^${seconds}^{date_short_pretty} {time}|${iso}>`;
}

function describe(record: JobRecord): string {
  const style =
    record.style.kind === 'exemplar'
      ? `exemplar ${record.style.id} (${record.style.name})`
      : record.style.kind === 'sampled'
        ? 'a random style'
        : 'your style image';
  const face = record.face.kind === 'forgotten' ? ' · photo forgotten' : '';
  return `${record.pack}, ${style}${face}`;
}
