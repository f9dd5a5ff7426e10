/**
 * Photo intake: attachments are fetched only from the configured CDN hosts, size-capped while
 * streaming, never written to disk. Whether the bytes are an image is the engine's decode's call
 * (magic bytes), so it is checked in one place for every platform.
 */
import { PasticheError, UserError } from '../../engine/index.ts';

/** Where a photo is, with the size Discord reported (an attachment has one; an avatar not). */
export interface PhotoSource {
  url: string;
  size?: number;
}

export interface DownloadPolicy {
  /** Host names allowed, exactly (`config.discord.cdnHosts`). */
  hosts: readonly string[];
  maxBytes: number;
  /** Plain http:// too: only for a local fake Discord in tests. */
  allowHttp?: boolean;
  timeoutMs?: number;
}

export type IntakeCode = 'host-not-allowed' | 'download-failed' | 'no-photo-in-message';

/** Intake failures that are not the engine's; what a user reads comes from this table. */
const MESSAGES: Record<IntakeCode, string> = {
  'host-not-allowed':
    'I only read photos uploaded to Discord. Attach the photo itself instead of a link to it.',
  'download-failed': "I couldn't download that photo from Discord. Try attaching it again.",
  'no-photo-in-message':
    'That message has no photo I can use. Use "Stylize photo" on a message with an image attached.',
};

export class IntakeError extends PasticheError {
  override readonly name = 'IntakeError';
  override readonly forUsers = true;
  constructor(
    readonly code: IntakeCode,
    readonly detail?: string,
  ) {
    super(detail ? `${MESSAGES[code]} (${detail})` : MESSAGES[code]);
  }

  override get userMessage(): string {
    return MESSAGES[this.code];
  }
}

/**
 * The refusal for a source that must not be fetched (wrong host or scheme, too large by its
 * declared size), or `undefined`. No I/O: it runs before the interaction is deferred, so the
 * refusal can be an ephemeral reply.
 */
export function checkSource(source: PhotoSource, policy: DownloadPolicy): Error | undefined {
  let url: URL;
  try {
    url = new URL(source.url);
  } catch {
    return new IntakeError('host-not-allowed', `not a URL: ${source.url}`);
  }
  const schemes = policy.allowHttp ? ['https:', 'http:'] : ['https:'];
  const host = url.hostname.toLowerCase();
  if (!schemes.includes(url.protocol) || !policy.hosts.some((h) => h.toLowerCase() === host)) {
    return new IntakeError('host-not-allowed', url.origin);
  }
  if (source.size !== undefined && source.size > policy.maxBytes) {
    return new UserError('file-too-large', `${source.size} bytes, limit ${policy.maxBytes}`);
  }
  return undefined;
}

/**
 * Downloads a photo into memory. Throws {@link IntakeError} or the engine's `file-too-large` /
 * `empty-file` {@link UserError}.
 *
 * @example
 * const bytes = await downloadPhoto({ url: attachment.url, size: attachment.size },
 *   { hosts: config.discord.cdnHosts, maxBytes: config.photo.maxBytes });
 */
export async function downloadPhoto(
  source: PhotoSource,
  policy: DownloadPolicy,
): Promise<Uint8Array> {
  const refusal = checkSource(source, policy);
  if (refusal) throw refusal;
  let response: Response;
  try {
    // No redirects: a redirect could lead off the allowed hosts.
    response = await fetch(source.url, {
      redirect: 'error',
      signal: AbortSignal.timeout(policy.timeoutMs ?? 20_000),
    });
  } catch (error) {
    throw new IntakeError('download-failed', String(error));
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    throw new IntakeError('download-failed', `HTTP ${response.status}`);
  }
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > policy.maxBytes) {
    await response.body.cancel();
    throw new UserError('file-too-large', `${declared} bytes, limit ${policy.maxBytes}`);
  }
  return readCapped(response.body, policy.maxBytes);
}

/** Reads a stream, giving up as soon as it passes `maxBytes` (a lying content-length too). */
async function readCapped(body: ReadableStream<Uint8Array>, maxBytes: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for await (const chunk of body) {
      total += chunk.length;
      if (total > maxBytes) {
        throw new UserError('file-too-large', `over ${maxBytes} bytes`);
      }
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new IntakeError('download-failed', String(error));
  }
  if (total === 0) throw new UserError('empty-file');
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}
