/**
 * The POST routes: each turns one request into one call of the command layer, answers 202 at
 * once, and streams the command's replies to the session's event stream, ending with `done`.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Commands, StyleBlendInput, StylizeInput } from '../../commands/index.ts';
import { UserError, WEIGHT_PRESETS, type WeightPreset } from '../../engine/index.ts';
import type { Caller, Reply, ReplySink } from '../../commands/types.ts';
import type { EventHub } from './events.ts';
import { HttpError, readBody, readJson } from './http.ts';
import type { ImageStore } from './images.ts';
import {
  REQUEST_ID,
  REQUEST_ID_HEADER,
  REROLL_MODES,
  TEXT_COMMANDS,
  type TextCommand,
  type WireImage,
  type WireReply,
} from './wire.ts';

export interface CommandRoutesOptions {
  commands: Commands;
  events: EventHub;
  images: ImageStore;
  /** Upload cap, `photo.maxBytes` of the config. */
  maxBytes: number;
  log: (line: string) => void;
}

/** A POST route: what to run for this request, given who asks. */
type Route = (
  req: IncomingMessage,
  url: URL,
) => Promise<(caller: Caller, sink: ReplySink) => Promise<void>>;

/** Image ids are job ids (UUIDs) and `info-<uuid>`, safe in a path as they are. */
const IMAGE_ID = /^[\w-]{1,100}$/;
const imageUrl = (id: string): string => `/api/images/${id}`;

/** A playground session is both the user and the channel: one person, one tab group. */
export const playgroundCaller = (session: string): Caller => ({
  platform: 'playground',
  userId: session,
  channelId: session,
  displayName: 'you',
});

function unit(url: URL, name: string): number | undefined {
  const raw = url.searchParams.get(name);
  if (raw === null || raw === '') return undefined;
  const n = Number(raw);
  if (!(n >= 0 && n <= 1)) throw new HttpError(400, `${name} must be between 0 and 1.`);
  return n;
}

function flag(url: URL, name: string): boolean {
  return url.searchParams.get(name) === 'true';
}

const PRESETS = Object.keys(WEIGHT_PRESETS) as WeightPreset[];

function text(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  if (typeof value !== 'string' || value === '') throw new HttpError(400, `${name} is missing.`);
  return value;
}

function oneOf<T extends string>(value: string, allowed: readonly T[], name: string): T {
  if (!(allowed as readonly string[]).includes(value))
    throw new HttpError(400, `${name} must be one of ${allowed.join(', ')}.`);
  return value as T;
}

/** Runs commands for the page and keeps track of them, so shutdown can wait for the rest. */
export class CommandRoutes {
  readonly #running = new Set<Promise<void>>();
  readonly #routes: Record<string, Route>;

  constructor(private readonly o: CommandRoutesOptions) {
    const photo = async (req: IncomingMessage): Promise<Uint8Array | undefined> => {
      const tooLarge = new UserError('file-too-large').userMessage;
      const bytes = await readBody(req, o.maxBytes, tooLarge);
      return bytes.length > 0 ? bytes : undefined;
    };
    /** A raw photo, or a form with `photo` and `styleImage` (an image to take the style from). */
    const photos = async (req: IncomingMessage): Promise<StylizeInput> => {
      const type = String(req.headers['content-type'] ?? '');
      if (!type.startsWith('multipart/form-data')) return { photo: await photo(req) };
      const tooLarge = new UserError('file-too-large').userMessage;
      const body = await readBody(req, 2 * o.maxBytes, tooLarge);
      let form: FormData;
      try {
        form = await new Response(body.slice(), { headers: { 'content-type': type } }).formData();
      } catch {
        throw new HttpError(400, 'The form could not be read.');
      }
      const file = async (name: string): Promise<Uint8Array | undefined> => {
        const value = form.get(name);
        if (!(value instanceof Blob) || value.size === 0) return undefined;
        if (value.size > o.maxBytes) throw new HttpError(413, tooLarge);
        return new Uint8Array(await value.arrayBuffer());
      };
      const [p, styleImage] = [await file('photo'), await file('styleImage')];
      return { ...(p && { photo: p }), ...(styleImage && { styleImage }) };
    };
    this.#routes = {
      '/api/stylize': async (req, url) => {
        const input: StylizeInput = await photos(req);
        const pack = url.searchParams.get('pack');
        const exemplar = url.searchParams.get('exemplar');
        const size = url.searchParams.get('size');
        if (pack) input.pack = pack;
        if (exemplar) input.exemplar = exemplar;
        input.structure = unit(url, 'structure');
        input.color = unit(url, 'color');
        input.preserveColor = url.searchParams.get('preserveColor') === 'true';
        if (size) input.size = Number(size);
        const style = url.searchParams.get('style');
        if (style) input.style = style;
        const preset = url.searchParams.get('preset');
        if (preset) input.preset = oneOf(preset, PRESETS, 'preset');
        input.truncation = unit(url, 'truncation');
        input.wholePhoto = flag(url, 'wholePhoto');
        input.allFaces = flag(url, 'allFaces');
        input.reconstruct = flag(url, 'reconstruct');
        return (caller, sink) => o.commands.stylize(caller, input, sink);
      },
      '/api/random': async (req, url) => {
        const count = Number(url.searchParams.get('count') ?? 1);
        const input = {
          photo: await photo(req),
          pack: url.searchParams.get('pack') ?? undefined,
          count,
        };
        return (caller, sink) => o.commands.styleRandom(caller, input, sink);
      },
      '/api/blend': async (req, url) => {
        const input: StyleBlendInput = {
          photo: await photo(req),
          a: url.searchParams.get('a') ?? '',
          b: url.searchParams.get('b') ?? '',
          strip: flag(url, 'strip'),
          ...(url.searchParams.get('pack') && { pack: url.searchParams.get('pack')! }),
        };
        const ratio = unit(url, 'ratio');
        if (ratio !== undefined) input.ratio = ratio;
        if (!input.a || !input.b) throw new HttpError(400, 'a and b are missing.');
        return (caller, sink) => o.commands.styleBlend(caller, input, sink);
      },
      '/api/pick': async (req) => {
        const body = await readJson(req);
        const tile = body.tile;
        if (typeof tile !== 'number' || !Number.isInteger(tile) || tile < 1)
          throw new HttpError(400, 'tile must be a whole number from 1.');
        const input = { jobId: text(body, 'jobId'), tile };
        return (caller, sink) => o.commands.pick(caller, input, sink);
      },
      '/api/reroll': async (req) => {
        const body = await readJson(req);
        const input = {
          jobId: text(body, 'jobId'),
          mode: oneOf(text(body, 'mode'), REROLL_MODES, 'mode'),
        };
        return (caller, sink) => o.commands.reroll(caller, input, sink);
      },
      '/api/cancel': async (req) => {
        const jobId = text(await readJson(req), 'jobId');
        return (caller, sink) => o.commands.cancel(caller, { jobId }, sink);
      },
      '/api/delete': async (req) => {
        const jobId = text(await readJson(req), 'jobId');
        return async (caller, sink) => {
          o.images.delete(jobId, caller.channelId);
          await o.commands.deleteResult(caller, { jobId }, sink);
        };
      },
      '/api/command': async (req) => {
        const body = await readJson(req);
        const name = oneOf(text(body, 'name'), TEXT_COMMANDS, 'name');
        const pack = typeof body.pack === 'string' && body.pack ? body.pack : undefined;
        return (caller, sink) => this.#text(name, pack, caller, sink);
      },
    };
  }

  has(path: string): boolean {
    return Object.hasOwn(this.#routes, path);
  }

  /**
   * Parses the request, then runs the command in the background. Throws {@link HttpError} for a
   * request the command layer never sees (too large, malformed).
   */
  async start(req: IncomingMessage, url: URL, session: string): Promise<string> {
    const requestId = String(req.headers[REQUEST_ID_HEADER] ?? '');
    if (!REQUEST_ID.test(requestId)) throw new HttpError(400, `${REQUEST_ID_HEADER} is missing.`);
    const action = await this.#routes[url.pathname]!(req, url);
    const caller = playgroundCaller(session);
    const emit = (reply: WireReply) => this.o.events.send(session, { requestId, reply });
    const sink: ReplySink = (reply) => emit(this.#wire(reply, session));
    const task = action(caller, sink)
      .catch((error: unknown) => {
        // Commands reply with their own errors and never reject; this is a bug of ours.
        this.o.log(
          `playground: ${url.pathname} failed: ${(error as Error).stack ?? String(error)}`,
        );
        const internal = new UserError('internal');
        emit({ kind: 'error', code: internal.code, text: internal.userMessage });
      })
      .finally(() => {
        emit({ kind: 'done' });
        this.#running.delete(task);
      });
    this.#running.add(task);
    return requestId;
  }

  /** Waits for running commands, at most `ms`. */
  async drain(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
    await Promise.race([Promise.allSettled([...this.#running]), timeout]);
    clearTimeout(timer);
  }

  #text(
    name: TextCommand,
    pack: string | undefined,
    caller: Caller,
    sink: ReplySink,
  ): Promise<void> {
    switch (name) {
      case 'help':
        return this.o.commands.help(caller, sink);
      case 'privacy':
        return this.o.commands.privacy(caller, sink);
      case 'styles':
        return this.o.commands.styleList(caller, pack ? { pack } : {}, sink);
      case 'forget':
        this.o.images.deleteSession(caller.channelId);
        return this.o.commands.forget(caller, sink);
    }
  }

  /** Keeps a reply's image in memory and sends its URL instead. */
  #wire(reply: Reply, session: string): WireReply {
    const keep = (
      id: string,
      image: NonNullable<Extract<Reply, { kind: 'info' }>['image']>,
    ): WireImage => {
      this.o.images.put(id, session, image);
      return { url: imageUrl(id), width: image.width, height: image.height, format: image.format };
    };
    // A job's preview is kept only until its result arrives (a job without a usable id has
    // its preview kept under a random one, until the byte budget drops it).
    const previewId = (jobId: string): string =>
      IMAGE_ID.test(`preview-${jobId}`) ? `preview-${jobId}` : `preview-${randomUUID()}`;
    switch (reply.kind) {
      case 'status': {
        const { preview, ...rest } = reply;
        return preview ? { ...rest, preview: keep(previewId(reply.jobId), preview) } : rest;
      }
      case 'result':
        this.o.images.delete(previewId(reply.jobId), session);
        return {
          ...reply,
          image: keep(IMAGE_ID.test(reply.jobId) ? reply.jobId : randomUUID(), reply.image),
        };
      case 'info': {
        const { image, ...rest } = reply;
        return image ? { ...rest, image: keep(`info-${randomUUID()}`, image) } : rest;
      }
      default:
        return reply;
    }
  }
}
