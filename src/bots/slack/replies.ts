/**
 * Renders the command layer's replies in one Slack conversation: a single status message
 * (posted, then edited with queue position and stage), the result uploaded with its parameters,
 * errors in place of the status (or only to the asker), information only to the asker.
 */
import type { webApi } from '@slack/bolt';
import type { Reply, ReplySink } from '../../commands/index.ts';
import type { EncodedImage } from '../../engine/image/encode.ts';
import { SlackUserError } from './errors.ts';
import { sharedMessageTs } from './shares.ts';
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
  client: webApi.WebClient;
  store: SlackStore;
  log: (line: string) => void;
}

/** Web API errors that mean the bot may not post where it was asked. */
const NOT_A_MEMBER = new Set(['not_in_channel', 'channel_not_found', 'is_archived']);

/** The reactions that re-roll a result, as the result's message explains them. */
const REROLL_HINT =
  'React with :game_die: for a new style, :dna: for new structure only, :art: for new colours only.';

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
  #statusText = '';
  /** Set once Slack refused a post here: the asker was told, later replies are dropped. */
  #refused = false;

  constructor(
    private readonly deps: ReplyDeps,
    private readonly target: ReplyTarget,
  ) {}

  readonly sink: ReplySink = (reply) => {
    // Commands send stage updates without waiting: the chain keeps them in order.
    this.#chain = this.#chain.then(() =>
      this.#refused
        ? undefined
        : this.#render(reply).catch((error: unknown) => this.#failed(reply.kind, error)),
    );
    return this.#chain;
  };

  /** Resolves once every reply so far has been rendered. */
  settled(): Promise<void> {
    return this.#chain;
  }

  async #render(reply: Reply): Promise<void> {
    switch (reply.kind) {
      case 'status':
        return this.#status(reply.text);
      case 'result':
        return this.#result(reply.jobId, reply.image, reply.text, reply.params.pack);
      case 'error':
        return this.#error(reply.text);
      case 'info':
        if (reply.image) await this.#upload(reply.image, reply.text, 'styles');
        else await this.#ephemeral(reply.text);
    }
  }

  async #status(text: string): Promise<void> {
    const line = `<@${this.target.user}> ${text}`;
    if (line === this.#statusText) return;
    this.#statusText = line;
    const { client } = this.deps;
    const { channel, threadTs } = this.target;
    if (this.#statusTs) {
      await client.chat.update({ channel, ts: this.#statusTs, text: line });
    } else {
      const posted = await client.chat.postMessage({ channel, thread_ts: threadTs, text: line });
      this.#statusTs = posted.ts;
    }
  }

  async #result(jobId: string, image: EncodedImage, text: string, pack: string): Promise<void> {
    const comment = `<@${this.target.user}> ${text}\n${REROLL_HINT}`;
    const fileId = await this.#upload(image, comment, `${pack}-${jobId}`);
    // The result replaces the status; a status left behind must not cost the re-roll mapping.
    await this.#dropStatus().catch((error: unknown) => this.#failed('status', error));
    if (!fileId) return;
    const { client, store, log } = this.deps;
    const { channel, threadTs } = this.target;
    const ts = await sharedMessageTs(client, fileId, channel);
    if (!ts) {
      log(
        `slack: result ${jobId} was uploaded but its message never appeared; reactions on it will do nothing`,
      );
      return;
    }
    await store.setResult(channel, ts, { jobId, ...(threadTs !== undefined && { threadTs }) });
    // Seeded so users only click it; the bot's own reaction event is ignored.
    await client.reactions.add({ channel, timestamp: ts, name: 'game_die' });
  }

  async #error(text: string): Promise<void> {
    // The status message everyone saw becomes the outcome; with none, only the asker hears.
    if (this.#statusTs) await this.#status(`:warning: ${text}`);
    else await this.#ephemeral(text);
  }

  /** Uploads an image with files.uploadV2 (the three upload steps); returns its file id. */
  async #upload(image: EncodedImage, comment: string, name: string): Promise<string | undefined> {
    const { channel, threadTs } = this.target;
    const extension = image.format === 'jpeg' ? 'jpg' : image.format;
    const destination = threadTs
      ? { channel_id: channel, thread_ts: threadTs }
      : { channel_id: channel };
    const uploaded = await this.deps.client.filesUploadV2({
      ...destination,
      initial_comment: comment,
      file: Buffer.from(image.bytes),
      filename: `pastiche-${name}.${extension}`,
      title: name,
    });
    return uploaded.files[0]?.files?.[0]?.id;
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
    const code = (error as { data?: { error?: string } }).data?.error;
    this.deps.log(
      `slack: rendering a ${kind} reply in ${this.target.channel} failed: ${code ?? String(error)}`,
    );
    if (!code || !NOT_A_MEMBER.has(code)) return;
    this.#refused = true;
    // A response URL reaches the asker even where the bot cannot post.
    if (this.target.responseUrl) {
      await this.#ephemeral(new SlackUserError('not-in-channel').userMessage).catch(
        () => undefined,
      );
    }
  }
}
