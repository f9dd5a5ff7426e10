/**
 * Renders the command layer's replies in one Slack conversation: a single status message
 * (posted, then edited with the stage and a coarse queue position, never faster than every few
 * seconds, with a Cancel button), the result as a message with the uploaded image and its
 * re-roll and Delete buttons, errors in place of the status (or only to the asker), information
 * only to the asker.
 */
import { webApi, type types } from '@slack/bolt';
import type { Reply, ReplySink, ResultParams, Stage } from '../../commands/index.ts';
import type { EncodedImage } from '../../engine/index.ts';
import { ACTION } from './actions-ids.ts';
import { SlackUserError } from './errors.ts';
import type { SlackStore } from './store.ts';

/** Where one command's replies go. */
export interface ReplyTarget {
  channel: string;
  /** Status and result go into this thread. */
  threadTs?: string;
  /** Who asked: mentioned in the status, and the only one to see ephemeral answers. */
  user: string;
  /** A slash command's or shortcut's `response_url`: ephemeral answers reach the user even where the bot is no member. */
  responseUrl?: string;
}

export interface ReplyDeps {
  /** Everything but status edits: its queue waits out a 429, which is right for these. */
  client: webApi.WebClient;
  /**
   * Status posts and edits only, with `rejectRateLimitedCalls`: a 429 on these (Tier 3, about
   * 50 a minute per workspace) fails the one call instead of pausing the main client's queue,
   * which would hold up `views.open` (its trigger lasts 3 s) and uploads.
   */
  statusClient: webApi.WebClient;
  store: SlackStore;
  log: (line: string) => void;
  /** The least time between two edits of one status message. */
  statusIntervalMs: number;
}

/** Web API errors that mean the bot may not post where it was asked. */
const NOT_A_MEMBER = new Set(['not_in_channel', 'channel_not_found', 'is_archived']);

/** The buttons and reactions that re-roll a result, as the result's message explains them. */
const REROLL_HINT =
  'Buttons or reactions re-roll: :game_die: a new style, :dna: new structure only, :art: new colours only; :twisted_rightwards_arrows: fuses this style with a new one.';

/** Block Kit's limit on a section's text. */
const MAX_SECTION = 3000;

/**
 * A file uploaded a moment ago may not be usable in a block yet (`invalid_blocks`, "invalid
 * slack file"): the post is retried after these delays, about 8 s in all.
 */
const FILE_READY_DELAYS_MS = [250, 500, 1000, 2000, 4000];

/** A final status edit refused for its rate is retried this often after `Retry-After`. */
const FINAL_EDIT_TRIES = 3;

const plain = (text: string): types.PlainTextElement => ({ type: 'plain_text', text, emoji: true });
const section = (text: string): types.SectionBlock => ({
  type: 'section',
  text: {
    type: 'mrkdwn',
    text: text.length > MAX_SECTION ? `${text.slice(0, MAX_SECTION - 1)}…` : text,
  },
});
const button = (
  action: string,
  text: string,
  value: string,
  style?: 'danger' | 'primary',
): types.Button => ({
  type: 'button',
  action_id: action,
  text: plain(text),
  value,
  ...(style && { style }),
});

/** What a status message shows, and what makes an edit worth its rate: stage and coarse position. */
interface StatusView {
  jobId: string;
  line: string;
  key: string;
}

/**
 * One command's replies, rendered in order. `sink` never throws: a failed Slack call is logged
 * and the next reply still renders.
 *
 * @example
 * const replies = new SlackReplies(deps, { channel: 'C1', user: 'U1' });
 * await commands.stylize(caller, input, replies.sink);
 * await replies.settled();
 */
export class SlackReplies {
  #chain: Promise<void> = Promise.resolve();
  #statusTs: string | undefined;
  /** What the status message shows now. */
  #shown: StatusView | undefined;
  /** The latest status not shown yet (waiting for the interval, or a rate limit, to pass). */
  #pending: StatusView | undefined;
  #notBefore = 0;
  #timer: NodeJS.Timeout | undefined;
  /** Set once Slack refused a post here: the asker was told, later replies are dropped. */
  #refused = false;

  constructor(
    private readonly deps: ReplyDeps,
    private readonly target: ReplyTarget,
  ) {}

  readonly sink: ReplySink = (reply) => this.#enqueue(reply.kind, () => this.#render(reply));

  /**
   * Resolves once every reply so far has been rendered. A status edit still waiting for its
   * interval is not waited for: the job's result or error, which always follows, drops it.
   */
  async settled(): Promise<void> {
    let chain;
    do {
      chain = this.#chain;
      await chain;
    } while (chain !== this.#chain);
  }

  // Commands send stage updates without waiting: the chain keeps them in order.
  #enqueue(kind: Reply['kind'], work: () => Promise<void>): Promise<void> {
    this.#chain = this.#chain.then(() =>
      this.#refused ? undefined : work().catch((error: unknown) => this.#failed(kind, error)),
    );
    return this.#chain;
  }

  async #render(reply: Reply): Promise<void> {
    switch (reply.kind) {
      case 'status':
        return this.#status(reply.jobId, reply.text, reply.stage, reply.position);
      case 'result':
        return this.#result(reply.jobId, reply.image, reply.text, reply.params);
      case 'error':
        // Slack's own way to bring the photo back, rather than the engine's "attach it".
        return this.#error(
          reply.code === 'photo-needed'
            ? new SlackUserError('photo-needed').userMessage
            : reply.text,
        );
      case 'info':
        if (reply.image) await this.#uploadShared(reply.image, reply.text, 'styles');
        else await this.#ephemeral(reply.text);
    }
  }

  async #status(jobId: string, text: string, stage: Stage, position?: number): Promise<void> {
    const line = `<@${this.target.user}> ${text}`;
    const key = `${stage}:${position === undefined ? '' : coarse(position)}`;
    // A new ETA alone is not worth an edit; a new stage or a clearly shorter queue is.
    if (key === (this.#pending ?? this.#shown)?.key) return;
    this.#pending = { jobId, line, key };
    await this.#flushStatus();
  }

  /** Shows the pending status now if the interval and any rate limit allow, else schedules it. */
  async #flushStatus(): Promise<void> {
    if (this.#timer || !this.#pending) return;
    const wait = this.#notBefore - Date.now();
    if (wait > 0) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        void this.#enqueue('status', () => this.#flushStatus());
      }, wait);
      // A status edit alone must not keep a stopping process alive.
      this.#timer.unref();
      return;
    }
    const view = this.#pending;
    this.#pending = undefined;
    try {
      await this.#showStatus(view.line, statusBlocks(view.line, view.jobId));
      this.#shown = view;
      this.#notBefore = Date.now() + this.deps.statusIntervalMs;
    } catch (error) {
      const retryAfterMs = rateLimitedMs(error);
      if (retryAfterMs === undefined) throw error;
      // Dropped, not queued behind the limit: the newest status is shown once it has passed.
      this.#pending ??= view;
      this.#notBefore = Date.now() + retryAfterMs;
      this.deps.log(`slack: status edit rate limited; next in ${retryAfterMs} ms`);
      await this.#flushStatus();
    }
  }

  /** Posts the status message, or edits it, through the client that rejects rate-limited calls. */
  async #showStatus(text: string, blocks: types.KnownBlock[]): Promise<void> {
    const client = this.deps.statusClient;
    const { channel, threadTs } = this.target;
    if (this.#statusTs) {
      await client.chat.update({ channel, ts: this.#statusTs, text, blocks });
    } else {
      const posted = await client.chat.postMessage({ channel, thread_ts: threadTs, text, blocks });
      this.#statusTs = posted.ts;
    }
  }

  /** Drops any status not shown yet: the job has ended. */
  #endStatus(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending = undefined;
  }

  async #result(
    jobId: string,
    image: EncodedImage,
    text: string,
    params: ResultParams,
  ): Promise<void> {
    this.#endStatus();
    const { store } = this.deps;
    const { channel, threadTs, user } = this.target;
    const { pack } = params;
    const comment = `<@${user}> ${text}`;
    const fileId = await this.#uploadPrivate(image, `${pack}-${jobId}`);
    // The result replaces the status; a status left behind must not cost the result.
    await this.#dropStatus().catch((error: unknown) => this.#failed('status', error));
    const blocks = resultBlocks(comment, fileId, jobId, params);
    const ts = await this.#postWithFile({ channel, thread_ts: threadTs, text: comment, blocks });
    if (!ts) return;
    await store.setResult(channel, ts, {
      jobId,
      fileId,
      ...(threadTs !== undefined && { threadTs }),
    });
    await store.addRecentResult(user, { jobId, channel, ts });
  }

  /** chat.postMessage with an image block, retried while Slack still processes the file. */
  async #postWithFile(args: webApi.ChatPostMessageArguments): Promise<string | undefined> {
    for (let attempt = 0; ; attempt++) {
      try {
        return (await this.deps.client.chat.postMessage(args)).ts;
      } catch (error) {
        const delay = FILE_READY_DELAYS_MS[attempt];
        if (slackError(error) !== 'invalid_blocks' || delay === undefined) throw error;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  async #error(text: string): Promise<void> {
    this.#endStatus();
    // The status message everyone saw becomes the outcome; with none, only the asker hears.
    if (!this.#statusTs) return this.#ephemeral(text);
    const line = `<@${this.target.user}> :warning: ${text}`;
    for (let attempt = 1; ; attempt++) {
      try {
        // Without its Cancel button: there is nothing left to cancel.
        return await this.#showStatus(line, [section(line)]);
      } catch (error) {
        const retryAfterMs = rateLimitedMs(error);
        if (retryAfterMs === undefined || attempt >= FINAL_EDIT_TRIES) throw error;
        await new Promise((resolve) => setTimeout(resolve, retryAfterMs));
      }
    }
  }

  /** Uploads an image shared nowhere yet (files.uploadV2 without a channel); returns its id. */
  async #uploadPrivate(image: EncodedImage, name: string): Promise<string> {
    const extension = image.format === 'jpeg' ? 'jpg' : image.format;
    const uploaded = await this.deps.client.filesUploadV2({
      file: Buffer.from(image.bytes),
      filename: `pastiche-${name}.${extension}`,
      title: name,
    });
    const id = uploaded.files[0]?.files?.[0]?.id;
    if (!id) throw new Error('files.uploadV2 returned no file id');
    return id;
  }

  /** Uploads an image into the conversation with a comment (the contact sheet). */
  async #uploadShared(image: EncodedImage, comment: string, name: string): Promise<void> {
    const { channel, threadTs } = this.target;
    const extension = image.format === 'jpeg' ? 'jpg' : image.format;
    const destination = threadTs
      ? { channel_id: channel, thread_ts: threadTs }
      : { channel_id: channel };
    await this.deps.client.filesUploadV2({
      ...destination,
      initial_comment: comment,
      file: Buffer.from(image.bytes),
      filename: `pastiche-${name}.${extension}`,
      title: name,
    });
  }

  async #dropStatus(): Promise<void> {
    if (!this.#statusTs) return;
    const ts = this.#statusTs;
    this.#statusTs = undefined;
    await this.deps.client.chat.delete({ channel: this.target.channel, ts });
  }

  /**
   * A message only the asker sees: through the response URL when there is one (it works where
   * the bot is no member, 5 times in 30 minutes), else chat.postEphemeral.
   */
  async #ephemeral(text: string): Promise<void> {
    const { channel, threadTs, user, responseUrl } = this.target;
    if (responseUrl) {
      const response = await fetch(responseUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text }),
        signal: AbortSignal.timeout(10_000),
      }).catch((error: unknown) => error as Error);
      if (!(response instanceof Error) && response.ok) return;
      const why = response instanceof Error ? response.message : `HTTP ${response.status}`;
      this.deps.log(`slack: response_url failed (${why}); posting ephemerally`);
    }
    await this.deps.client.chat.postEphemeral({ channel, user, text, thread_ts: threadTs });
  }

  async #failed(kind: Reply['kind'], error: unknown): Promise<void> {
    const code = slackError(error);
    this.deps.log(
      `slack: rendering a ${kind} reply in ${this.target.channel} failed: ${code ?? String(error)}`,
    );
    if (!code || !NOT_A_MEMBER.has(code)) return;
    this.#refused = true;
    this.#endStatus();
    // A response URL reaches the asker even where the bot cannot post.
    if (this.target.responseUrl) {
      await this.#ephemeral(new SlackUserError('not-in-channel').userMessage).catch(
        () => undefined,
      );
    }
  }
}

/** Positions 1–3 exactly, then 5, 10, 20, 50, more: an edit when the wait clearly changes. */
function coarse(position: number): number {
  if (position <= 3) return position;
  return [5, 10, 20, 50].find((bound) => position <= bound) ?? Infinity;
}

function statusBlocks(line: string, jobId: string): types.KnownBlock[] {
  return [section(line), { type: 'actions', elements: [button(ACTION.cancel, 'Cancel', jobId)] }];
}

/**
 * A result's message: the image and its buttons. A grid or strip gets 1–n to keep one picture;
 * any other result the re-rolls and 🔀, and a crop of a photo "Whole photo" too. Re-rolling a
 * whole photo, or pasting a crop, needs the photo, which the engine keeps only for
 * `privacy.keepPhotosMinutes`; later the answer says to share it again.
 */
function resultBlocks(
  comment: string,
  fileId: string,
  jobId: string,
  params: ResultParams,
): types.KnownBlock[] {
  const tiles = params.tiles ?? 0;
  const whole = params.faces !== undefined;
  const rerolls = [
    button(ACTION.rerollStyle, ':game_die: New style', jobId),
    button(ACTION.rerollStructure, ':dna: New structure', jobId),
    button(ACTION.rerollColor, ':art: New colours', jobId),
    button(ACTION.rerollFuse, ':twisted_rightwards_arrows: Fuse', jobId),
  ];
  const picks = Array.from({ length: tiles }, (_, i) =>
    button(pickAction(i + 1), `Keep ${i + 1}`, jobId, i === 0 ? 'primary' : undefined),
  );
  // A crop of a photo: a random portrait has no face found in any photo.
  const fromPhoto = params.faceCount !== undefined;
  const elements = [
    ...(tiles > 0 ? picks : rerolls),
    ...(tiles === 0 && !whole && fromPhoto
      ? [button(ACTION.wholePhoto, ':frame_with_picture: Whole photo', jobId)]
      : []),
    button(ACTION.delete, 'Delete', jobId, 'danger'),
  ];
  const hint =
    tiles > 0
      ? `Keep one at full size: ${tiles === 4 ? 'buttons 1–4 read left to right, top to bottom' : `buttons 1–${tiles}, left to right`}.`
      : `${REROLL_HINT}\nReuse this style on any photo: \`/stylize style=${params.reference}\``;
  return [
    section(comment),
    { type: 'image', slack_file: { id: fileId }, alt_text: `${params.pack} portrait` },
    { type: 'actions', elements },
    { type: 'context', elements: [{ type: 'mrkdwn', text: hint.slice(0, MAX_SECTION) }] },
  ];
}

/** The `action_id` of grid button `tile` (1-based): ids must differ within a block. */
const pickAction = (tile: number): string => `${ACTION.pickPrefix}${tile}`;

/** The Web API's error code (`not_in_channel`, `invalid_blocks`…), if Slack answered one. */
export function slackError(error: unknown): string | undefined {
  return (error as { data?: { error?: string } }).data?.error;
}

/** How long Slack asked to wait, for a call rejected for its rate. */
function rateLimitedMs(error: unknown): number | undefined {
  const e = error as { code?: string; retryAfter?: number };
  return e.code === webApi.ErrorCode.RateLimitedError ? (e.retryAfter ?? 1) * 1000 : undefined;
}
