/**
 * Photos shared on Slack: which file of a message is the photo, and its bytes. Slack serves
 * `url_private` only with the bot token; without it (or without the `files:read` scope) it
 * answers 200 with an HTML login page, which must read as a scope problem, not "not an image".
 */
import { UserError } from '../../engine/index.ts';
import { SlackUserError } from './errors.ts';

/** The fields of a Slack file object the adapter reads (messages, modals and files.info agree). */
export interface SlackFile {
  id: string;
  /** `check_file_info` for a Slack Connect file: only its id came with the event. */
  file_access?: string;
  name?: string | null;
  mimetype?: string;
  size?: number;
  url_private?: string;
  url_private_download?: string;
}

/** A photo to download later: enough to fetch it and to name it to the user. */
export interface PhotoRef {
  url: string;
  name: string;
}

const IMAGE_TYPES = /^image\/(jpeg|png|webp|gif|heic|heif|avif)$/;

/**
 * The message's files as `files.info` describes them: a file shared from another organisation
 * (Slack Connect) arrives as `{ id, file_access: 'check_file_info' }`, without type or URL.
 */
export async function withFileInfo(
  client: FilesInfoClient,
  files: readonly SlackFile[] | undefined,
): Promise<SlackFile[] | undefined> {
  if (!files?.some((f) => f.file_access === 'check_file_info')) return files && [...files];
  return Promise.all(
    files.map(async (f) => {
      if (f.file_access !== 'check_file_info') return f;
      const { file } = await client.files.info({ file: f.id });
      return file ? { ...(file as SlackFile), id: f.id } : f;
    }),
  );
}

/** The one Web API call {@link withFileInfo} makes. */
export interface FilesInfoClient {
  files: { info(args: { file: string }): Promise<{ file?: unknown }> };
}

/** The first image among a message's files, or undefined. */
export function firstImage(files: readonly SlackFile[] | undefined): PhotoRef | undefined {
  const file = files?.find((f) => IMAGE_TYPES.test(f.mimetype ?? ''));
  const url = file?.url_private_download ?? file?.url_private;
  return file && url ? { url, name: file.name ?? file.id } : undefined;
}

export interface DownloadOptions {
  botToken: string;
  maxBytes: number;
  /**
   * Origins the bot token may be sent to and redirects may lead to: Slack's file host (and a
   * local fake in tests).
   */
  origins: readonly string[];
  timeoutMs?: number;
}

/**
 * Downloads a photo with the bot token, refusing more than `maxBytes` as it streams.
 *
 * @throws {SlackUserError} `files-scope` for an HTML answer, `download-failed`, `not-slack-file`.
 * @throws {UserError} `file-too-large`.
 * @example const bytes = await downloadPhoto(ref, { botToken, maxBytes: 20 << 20, origins: ['https://files.slack.com'] });
 */
export async function downloadPhoto(
  photo: PhotoRef,
  options: DownloadOptions,
): Promise<Uint8Array> {
  const response = await fetchFollowing(new URL(photo.url), options);
  const type = response.headers.get('content-type') ?? '';
  if (response.status === 401 || response.status === 403 || type.startsWith('text/html')) {
    await response.body?.cancel();
    throw new SlackUserError('files-scope');
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new SlackUserError('download-failed', `HTTP ${response.status}`);
  }
  const bytes = await readCapped(response, options.maxBytes);
  if (looksLikeHtml(bytes)) throw new SlackUserError('files-scope');
  return bytes;
}

/** Slack redirects a download once or twice (to a CDN path of the same host); more is a loop. */
const MAX_REDIRECTS = 3;

/**
 * GET with the bot token, following redirects by hand: each hop must stay on an allowed origin,
 * since a redirect elsewhere would carry the download (and, with `fetch`'s own following, possibly
 * the request) to a host nobody vetted.
 */
async function fetchFollowing(url: URL, options: DownloadOptions): Promise<Response> {
  const signal = AbortSignal.timeout(options.timeoutMs ?? 30_000);
  for (let hop = 0; ; hop++) {
    // The token opens every file the bot can see: it goes to Slack's own host and nowhere else.
    if (!options.origins.includes(url.origin)) {
      throw new SlackUserError(
        hop === 0 ? 'not-slack-file' : 'download-failed',
        'redirected off Slack',
      );
    }
    let response: Response;
    try {
      response = await fetch(url, {
        headers: { Authorization: `Bearer ${options.botToken}` },
        redirect: 'manual',
        signal,
      });
    } catch (error) {
      throw new SlackUserError('download-failed', (error as Error).name);
    }
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || !location) return response;
    await response.body?.cancel();
    if (hop >= MAX_REDIRECTS) throw new SlackUserError('download-failed', 'too many redirects');
    url = new URL(location, url);
  }
}

async function readCapped(response: Response, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > maxBytes || !response.body) {
    await response.body?.cancel();
    if (declared > maxBytes) throw new UserError('file-too-large', `${declared} bytes`);
    return new Uint8Array();
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of response.body) {
    total += chunk.byteLength;
    if (total > maxBytes) throw new UserError('file-too-large', `over ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

/** A login page served as `application/octet-stream` still starts like markup. */
function looksLikeHtml(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.subarray(0, 256)).toString('latin1').trimStart().toLowerCase();
  return head.startsWith('<!doctype html') || head.startsWith('<html');
}
