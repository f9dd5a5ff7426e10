/** The modal's submission (which starts the job) and its type-ahead selects (options requests). */
import type {
  SlackOptionsMiddlewareArgs,
  SlackViewMiddlewareArgs,
  ViewSubmitAction,
} from '@slack/bolt';
import { UserError } from '../../engine/index.ts';
import { callerOf, type SlackContext } from './context.ts';
import { exemplarOptions, FIELD, packOptions, readModal } from './modal.ts';
import { firstImage, withFileInfo, type PhotoRef, type SlackFile } from './photos.ts';

type SubmitArgs = Pick<SlackViewMiddlewareArgs<ViewSubmitAction>, 'ack' | 'body' | 'view'>;
type OptionsArgs = Pick<SlackOptionsMiddlewareArgs<'block_suggestion'>, 'ack' | 'options'>;

/**
 * Closes the modal (or shows its errors), then downloads the photo and the exemplar image (each
 * through the same checked download as any photo) and runs `stylize`.
 */
export function onModalSubmit(ctx: SlackContext) {
  return async function modalSubmit({ ack, body, view }: SubmitArgs): Promise<void> {
    const read = readModal(view);
    if ('errors' in read) {
      await ack({ response_action: 'errors', errors: read.errors });
      return;
    }
    await ack();
    const { meta, offered, photoFiles, styleImageFiles, input } = read.submission;
    const user = body.user.id;
    const caller = callerOf(user, meta.channel, body.team?.id);
    const target = { user, ...meta };
    ctx.run(target, async (sink) => {
      const photo = offered ?? (await uploaded(ctx, photoFiles));
      const styleFile = await uploaded(ctx, styleImageFiles);
      const bytes = photo && (await ctx.download(photo));
      const styleImage = styleFile && (await ctx.download(styleFile));
      await ctx.commands.stylize(
        caller,
        { ...input, ...(bytes && { photo: bytes }), ...(styleImage && { styleImage }) },
        sink,
      );
    });
  };
}

/** The image among files uploaded in the modal; a Slack Connect file is looked up first. */
async function uploaded(
  ctx: SlackContext,
  files: SlackFile[] | undefined,
): Promise<PhotoRef | undefined> {
  if (!files) return undefined;
  const image = firstImage(await withFileInfo(ctx.client, files));
  if (!image) throw new UserError('not-an-image', files[0]?.name ?? files[0]?.id);
  return image;
}

/** The style select: installed packs matching what was typed. */
export function onPackOptions(ctx: SlackContext) {
  return async function packOptionsRequest({ ack, options }: OptionsArgs): Promise<void> {
    await ack({ options: packOptions(ctx.commands.styles(), options.value) });
  };
}

/** The exemplar select: the chosen pack's exemplars (every pack's when none is chosen yet). */
export function onExemplarOptions(ctx: SlackContext) {
  return async function exemplarOptionsRequest({ ack, options }: OptionsArgs): Promise<void> {
    const pack = options.view?.state.values[FIELD.pack]?.[FIELD.pack]?.selected_option?.value;
    await ack({ options: exemplarOptions(ctx.commands.styles(), pack, options.value) });
  };
}
