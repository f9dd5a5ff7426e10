/** Payloads the tests send, and the wait for a result to be posted. */
import assert from 'node:assert/strict';
import type { ApiCall, FakeSlack } from './fake-slack.ts';
import type { TestFile } from './harness.ts';
import { payloadRequest, TEAM } from './signed.ts';

/** The modal as the app opened it (views.open's `view`). */
export interface OpenedView {
  callback_id: string;
  private_metadata: string;
  blocks: { type: string; block_id?: string; element?: Record<string, unknown> }[];
}

export function openedView(call: ApiCall): OpenedView {
  return call.args.view as OpenedView;
}

export const selected = (value: string) => ({
  type: 'external_select',
  selected_option: { text: { type: 'plain_text', text: value }, value },
});

/** Slack's view_submission for `view` with the given state values. */
export function viewSubmission(
  view: OpenedView,
  user: string,
  values: Record<string, Record<string, unknown>>,
): [string, string] {
  return payloadRequest({
    type: 'view_submission',
    team: { id: TEAM, domain: 'example' },
    user: { id: user, name: user, team_id: TEAM },
    api_app_id: 'A1',
    token: 'legacy-verification-token',
    trigger_id: 'trigger-submit',
    view: {
      id: 'V1',
      team_id: TEAM,
      type: 'modal',
      callback_id: view.callback_id,
      private_metadata: view.private_metadata,
      blocks: view.blocks,
      state: { values },
      hash: 'hash',
      title: { type: 'plain_text', text: 'Stylize a photo' },
      close: null,
      submit: null,
      app_id: 'A1',
      bot_id: 'BBOT',
      root_view_id: 'V1',
      previous_view_id: null,
      clear_on_close: false,
      notify_on_close: false,
    },
  });
}

export const uploadedFile = (file: TestFile) => ({
  photo: { photo: { type: 'file_input', files: [file] } },
});

export interface PostedResult {
  /** files.completeUploadExternal's arguments: channel_id, thread_ts, initial_comment, files. */
  complete: Record<string, unknown>;
  /** The uploaded bytes. */
  bytes: Uint8Array;
  /** The `ts` of the message sharing the file (what reactions refer to). */
  ts: string;
  channel: string;
}

/**
 * Waits for the next result after call index `from`: the three upload steps, then the share
 * found through files.info and the seeded 🎲 reaction.
 */
export async function nextResult(fake: FakeSlack, from: number): Promise<PostedResult> {
  const url = await fake.waitFor('files.getUploadURLExternal', undefined, { from });
  const complete = await fake.waitFor('files.completeUploadExternal', undefined, { from });
  const fileId = (complete.args.files as { id: string }[])[0]!.id;
  assert.ok(Number(url.args.length) > 0, 'getUploadURLExternal gets the length');
  const bytes = fake.uploads.get(fileId);
  assert.ok(bytes, 'the bytes were POSTed to the upload URL');
  const channel = String(complete.args.channel_id);
  const reaction = await fake.waitFor('reactions.add', (a) => a.channel === channel, { from });
  assert.equal(reaction.args.name, 'game_die');
  return { complete: complete.args, bytes, ts: String(reaction.args.timestamp), channel };
}

/** True for JPEG bytes. */
export const isJpeg = (bytes: Uint8Array): boolean => bytes[0] === 0xff && bytes[1] === 0xd8;

/** Every text the app sent to Slack after `from`: messages, updates, ephemerals, responses. */
export function textsSince(fake: FakeSlack, from: number, responsesFrom = 0): string[] {
  const texts = fake.calls
    .slice(from)
    .flatMap((c) => [c.args.text, c.args.initial_comment])
    .filter((t): t is string => typeof t === 'string');
  const responses = fake.responses.slice(responsesFrom).map((r) => String(r.text));
  return [...texts, ...responses];
}
