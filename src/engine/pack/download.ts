/**
 * One file from the hub into a local path: resumable through a `.part` file (HTTP Range), checked
 * against the size and sha256 the hub announces, retried after a cut connection or a stall.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DownloadError,
  failure,
  probe,
  request,
  statusError,
  Watchdog,
  type HubRequestOptions,
  type RemoteFile,
  type Target,
} from './hub.ts';

export interface DownloadProgress {
  /** Bytes on disk so far, resumed bytes included. */
  received: number;
  total?: number;
  /** Bytes that were already on disk when this attempt started. */
  resumedFrom: number;
}

export interface DownloadOptions extends HubRequestOptions {
  /** Further attempts after a retryable failure, each resuming the `.part` file; default 3. */
  retries?: number;
  /** Delay before the first retry, doubled after each; default 1 s. */
  retryDelayMs?: number;
  onStart?: (progress: DownloadProgress) => void;
  onProgress?: (progress: DownloadProgress) => void;
  onRetry?: (error: DownloadError) => void;
}

export interface DownloadOutcome {
  file: string;
  size: number;
  sha256: string;
  status: 'downloaded' | 'resumed' | 'up-to-date';
  /** What the result was checked against: the hub's sha256, or only its size. */
  verified: 'sha256' | 'size';
}

async function sizeOf(file: string): Promise<number | undefined> {
  return stat(file).then(
    (s) => s.size,
    () => undefined,
  );
}

async function hashInto(hash: Hash, file: string): Promise<Hash> {
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash;
}

function rangeStart(response: Response): number | undefined {
  const match = /^bytes (\d+)-/.exec(response.headers.get('content-range') ?? '');
  return match ? Number(match[1]) : undefined;
}

/** Streams the rest of the file into `part`; returns the hash of all of it and its size. */
async function transfer(
  target: Target,
  remote: RemoteFile,
  part: string,
  options: DownloadOptions,
): Promise<{ sha256: string; size: number; resumedFrom: number }> {
  let start = (await sizeOf(part)) ?? 0;
  if (remote.size !== undefined && start > remote.size) start = 0;
  // Hash what is already there before asking, so the connection never idles while we read.
  let hash = start > 0 ? await hashInto(createHash('sha256'), part) : createHash('sha256');
  const watchdog = new Watchdog(options.signal, options.idleTimeoutMs);
  try {
    let response: Response | undefined;
    if (start === 0 || start !== remote.size) {
      ({ response } = await request(target, remote.url, { method: 'GET', range: start }, watchdog));
      if (response.status === 416 || (response.status === 206 && rangeStart(response) !== start)) {
        // The part does not fit this file (it changed upstream, or a proxy misbehaved): start over.
        await response.body?.cancel();
        await rm(part, { force: true });
        throw new DownloadError('interrupted', target.url, target.file, 'range not honoured');
      }
      if (!response.ok) throw statusError(target, response);
      // A server that ignores Range answers 200 with the whole file.
      if (response.status !== 206 && start > 0) {
        start = 0;
        hash = createHash('sha256');
      }
    }
    const handle = await open(part, start > 0 ? 'a' : 'w');
    let received = start;
    try {
      const progress = { received, resumedFrom: start, total: remote.size };
      options.onStart?.(progress);
      for await (const chunk of response?.body ?? []) {
        watchdog.kick();
        hash.update(chunk);
        await handle.write(chunk);
        received += chunk.length;
        if (remote.size !== undefined && received > remote.size) {
          throw new DownloadError(
            'size',
            target.url,
            target.file,
            `more than ${remote.size} bytes`,
          );
        }
        options.onProgress?.({ ...progress, received });
      }
    } finally {
      await handle.close();
    }
    if (remote.size !== undefined && received < remote.size) {
      throw new DownloadError('interrupted', target.url, target.file, `ended at ${received} bytes`);
    }
    return { sha256: hash.digest('hex'), size: received, resumedFrom: start };
  } catch (error) {
    throw failure(error, target, watchdog);
  } finally {
    watchdog.stop();
  }
}

async function attempt(target: Target, options: DownloadOptions): Promise<DownloadOutcome> {
  const remote = await probe(target, options);
  const verified = remote.sha256 ? 'sha256' : 'size';
  const existing = await sizeOf(target.file);
  if (existing !== undefined && existing === remote.size) {
    const sha256 = (await hashInto(createHash('sha256'), target.file)).digest('hex');
    if (!remote.sha256 || sha256 === remote.sha256) {
      return { file: target.file, size: existing, sha256, status: 'up-to-date', verified };
    }
  }
  const part = `${target.file}.part`;
  const got = await transfer(target, remote, part, options).catch(async (error: unknown) => {
    // Too many bytes: whatever the part holds is not this file.
    if (error instanceof DownloadError && error.kind === 'size') await rm(part, { force: true });
    throw error;
  });
  if (remote.sha256 && got.sha256 !== remote.sha256) {
    await rm(part, { force: true });
    throw new DownloadError(
      'checksum',
      target.url,
      target.file,
      `sha256 ${got.sha256} does not match the hub's ${remote.sha256}; the download was deleted`,
    );
  }
  await rename(part, target.file);
  const status = got.resumedFrom > 0 ? 'resumed' : 'downloaded';
  return { file: target.file, size: got.size, sha256: got.sha256, status, verified };
}

/**
 * Downloads `url` to `file` through `file.part`, resuming a part left by an earlier attempt or
 * run, and checks the size and sha256 the hub announces. A file already there with both
 * matching is not downloaded again.
 *
 * @throws {DownloadError} `offline`, `not-found`, `checksum`, … (retryable kinds are retried first)
 * @example
 * await downloadFile('https://huggingface.co/CVPR/DualStyleGAN/resolve/main/models/encoder.pt',
 *   'models/.downloads/encoder.pt', { onProgress: (p) => bar.update(p.received) });
 */
export async function downloadFile(
  url: string,
  file: string,
  options: DownloadOptions = {},
): Promise<DownloadOutcome> {
  const target = { url, file };
  await mkdir(dirname(file), { recursive: true });
  const retries = options.retries ?? 3;
  let delay = options.retryDelayMs ?? 1000;
  for (let n = 0; ; n++) {
    try {
      return await attempt(target, options);
    } catch (error) {
      if (!(error instanceof DownloadError) || !error.retryable || n >= retries) throw error;
      options.onRetry?.(error);
      await sleep(delay, undefined, { signal: options.signal }).catch(() => {
        throw new DownloadError('aborted', url, file, 'cancelled');
      });
      delay *= 2;
    }
  }
}
