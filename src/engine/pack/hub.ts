/**
 * Talking to a Hugging Face style hub over Node's built-in fetch: one request with redirects
 * followed by hand, what the hub says about a file, and typed failures.
 *
 * The hub answers `resolve/<rev>/<path>` for an LFS file with a redirect to a CDN and puts the
 * content's size and sha256 on that redirect (`X-Linked-Size`, `X-Linked-Etag`), as
 * huggingface_hub reads them; the CDN's own ETag is not a sha256. Following redirects by hand lets
 * us read those headers, and lets a redirect go only to https or stay on the origin that was
 * asked (plain http is allowed there for a local hub and tests).
 */

import { PasticheError } from '../errors.ts';

export type DownloadErrorKind =
  | 'offline'
  | 'not-found'
  | 'http'
  | 'redirect'
  | 'interrupted'
  | 'timeout'
  | 'size'
  | 'checksum'
  | 'aborted';

/** A file could not be downloaded. `kind` says why, so callers never match on messages. */
export class DownloadError extends PasticheError {
  override readonly name = 'DownloadError';
  readonly code = 'download-failed';
  /** Whether another attempt may succeed (a cut connection, a stall, a 5xx). */
  readonly retryable: boolean;
  constructor(
    readonly kind: DownloadErrorKind,
    /** The URL asked for (before redirects). */
    readonly url: string,
    /** The local file it was going to. */
    readonly file: string,
    detail: string,
    options?: { cause?: unknown; retryable?: boolean },
  ) {
    super(`${url}: ${detail}`, options);
    this.retryable = options?.retryable ?? (kind === 'interrupted' || kind === 'timeout');
  }
}

/** A file as the hub describes it. `sha256` is absent for non-LFS files (their ETag is a git hash). */
export interface RemoteFile {
  /** Where the bytes are, after redirects. */
  url: string;
  size?: number;
  sha256?: string;
}

export interface HubRequestOptions {
  signal?: AbortSignal;
  /** Give up when nothing arrives for this long; default 30 s. */
  idleTimeoutMs?: number;
}

const MAX_REDIRECTS = 5;
const SHA256 = /^[0-9a-f]{64}$/;
// Connection failures before any response: the network (or the hub) is not there.
const OFFLINE_CODES = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNREFUSED',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** The URL asked for and the local file it is for, named in every error. */
export interface Target {
  url: string;
  file: string;
}

function errorCode(error: unknown): string | undefined {
  for (let e = error; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** Maps what fetch or a body read threw to a DownloadError. */
export function failure(error: unknown, target: Target, signal: Watchdog): DownloadError {
  if (error instanceof DownloadError) return error;
  if (signal.outer?.aborted) {
    return new DownloadError('aborted', target.url, target.file, 'cancelled', { cause: error });
  }
  if (signal.idle) {
    return new DownloadError('timeout', target.url, target.file, 'no data received in time', {
      cause: error,
    });
  }
  const code = errorCode(error);
  if (code && OFFLINE_CODES.has(code)) {
    return new DownloadError('offline', target.url, target.file, `cannot reach the hub (${code})`, {
      cause: error,
    });
  }
  const why = code ?? (error instanceof Error ? error.message : String(error));
  return new DownloadError('interrupted', target.url, target.file, `transfer failed (${why})`, {
    cause: error,
  });
}

/** Aborts when the caller does, or when nothing has happened for `idleMs`. */
export class Watchdog {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  idle = false;
  readonly signal: AbortSignal;

  constructor(
    readonly outer: AbortSignal | undefined,
    private readonly idleMs = 30_000,
  ) {
    this.signal = outer ? AbortSignal.any([outer, this.controller.signal]) : this.controller.signal;
    this.kick();
  }

  kick(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.idle = true;
      this.controller.abort(new Error('idle timeout'));
    }, this.idleMs);
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}

function redirectAllowed(origin: URL, next: URL): boolean {
  return next.protocol === 'https:' || next.origin === origin.origin;
}

function linkedSha256(headers: Headers): string | undefined {
  const etag = headers.get('x-linked-etag')?.replace(/^W\//, '').replaceAll('"', '').toLowerCase();
  return etag && SHA256.test(etag) ? etag : undefined;
}

function sizeHeader(value: string | null): number | undefined {
  return value !== null && /^\d+$/.test(value) ? Number(value) : undefined;
}

/**
 * Sends one request and follows redirects by hand (see the module comment). Returns the final
 * response and what the hops said about the linked file.
 */
export async function request(
  target: Target,
  url: string,
  init: { method: 'HEAD' | 'GET'; range?: number },
  watchdog: Watchdog,
): Promise<{ response: Response; remote: RemoteFile }> {
  const origin = new URL(target.url);
  let current = new URL(url);
  const remote: RemoteFile = { url };
  for (let hop = 0; ; hop++) {
    // identity: undici would otherwise decompress, and byte counts and ranges would not match.
    const headers: Record<string, string> = { 'accept-encoding': 'identity' };
    if (init.range) headers.range = `bytes=${init.range}-`;
    const response = await fetch(current, {
      method: init.method,
      headers,
      redirect: 'manual',
      signal: watchdog.signal,
    });
    remote.sha256 ??= linkedSha256(response.headers);
    remote.size ??= sizeHeader(response.headers.get('x-linked-size'));
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || !location) {
      remote.url = current.href;
      return { response, remote };
    }
    await response.body?.cancel();
    const next = new URL(location, current);
    if (!redirectAllowed(origin, next) || hop === MAX_REDIRECTS) {
      const why = hop === MAX_REDIRECTS ? 'too many redirects' : `refused redirect to ${next.href}`;
      throw new DownloadError(
        'redirect',
        target.url,
        target.file,
        `${why} (only https is followed)`,
      );
    }
    current = next;
  }
}

export function statusError(target: Target, response: Response): DownloadError {
  if (response.status === 404) {
    return new DownloadError('not-found', target.url, target.file, 'not found (HTTP 404)');
  }
  const retryable = response.status >= 500 || response.status === 429;
  return new DownloadError('http', target.url, target.file, `HTTP ${response.status}`, {
    retryable,
  });
}

/** Asks the hub for a file's final URL, size and sha256 without downloading it. */
export async function probe(target: Target, options: HubRequestOptions = {}): Promise<RemoteFile> {
  const watchdog = new Watchdog(options.signal, options.idleTimeoutMs);
  try {
    const { response, remote } = await request(target, target.url, { method: 'HEAD' }, watchdog);
    if (!response.ok) throw statusError(target, response);
    remote.size ??= sizeHeader(response.headers.get('content-length'));
    return remote;
  } catch (error) {
    throw failure(error, target, watchdog);
  } finally {
    watchdog.stop();
  }
}
