/**
 * Where an uploaded file landed. `files.completeUploadExternal` returns before Slack posts the
 * message that shares the file, so its `ts` (what reactions refer to) comes from polling
 * `files.info` until the share appears.
 */
import type { webApi } from '@slack/bolt';

/** About 15 s in all: Slack usually shares within a second, sometimes far later under load. */
const DELAYS_MS = [150, 300, 600, 1200, 2400, 5000, 5000];

/** The `ts` of the message sharing `fileId` in `channel`, or undefined if it never showed. */
export async function sharedMessageTs(
  client: webApi.WebClient,
  fileId: string,
  channel: string,
  delaysMs: readonly number[] = DELAYS_MS,
): Promise<string | undefined> {
  for (const delay of delaysMs) {
    await new Promise((resolve) => setTimeout(resolve, delay));
    const { file } = await client.files.info({ file: fileId });
    const shares = file?.shares?.public?.[channel] ?? file?.shares?.private?.[channel];
    const ts = shares?.[0]?.ts;
    if (ts) return ts;
  }
  return undefined;
}
