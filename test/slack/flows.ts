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
  /** The result message's text: the asker's mention and the parameters used. */
  text: string;
  /** The thread it was posted in, if any. */
  threadTs: string | undefined;
  /** The uploaded bytes. */
  bytes: Uint8Array;
  /** The uploaded file's id (named by the message's image block). */
  fileId: string;
  /** The result message's `ts` (what reactions and buttons refer to). */
  ts: string;
  channel: string;
  blocks: Block[];
}

export interface Block {
  type: string;
  block_id?: string;
  slack_file?: { id: string };
  elements?: { type: string; action_id?: string; value?: string; text?: unknown }[];
  text?: { text: string };
  accessory?: { action_id?: string; value?: string };
}

/** The image block's file id, if `args` is a message with one. */
export const imageFileOf = (args: Record<string, unknown>): string | undefined =>
  (args.blocks as Block[] | undefined)?.find((b) => b.type === 'image')?.slack_file?.id;

/**
 * Waits for the next result after call index `from`: the upload (getUploadURLExternal, the
 * bytes, completeUploadExternal without a channel), then the message whose image block names
 * the file, as Slack accepted it.
 */
export async function nextResult(fake: FakeSlack, from: number): Promise<PostedResult> {
  const url = await fake.waitFor('files.getUploadURLExternal', undefined, { from });
  const complete = await fake.waitFor('files.completeUploadExternal', undefined, { from });
  assert.equal(complete.args.channel_id, undefined, 'uploaded without a channel');
  const fileId = (complete.args.files as { id: string }[])[0]!.id;
  assert.ok(Number(url.args.length) > 0, 'getUploadURLExternal gets the length');
  const bytes = fake.uploads.get(fileId);
  assert.ok(bytes, 'the bytes were POSTed to the upload URL');
  const post = await fake.waitFor('chat.postMessage', (a) => imageFileOf(a) === fileId, {
    from,
  });
  // The first post may be refused while Slack processes the file; the accepted one follows.
  const accepted = post.result.ok
    ? post
    : await fake.waitFor('chat.postMessage', (a) => imageFileOf(a) === fileId && a !== post.args, {
        from,
      });
  assert.equal(accepted.result.ok, true, `result post: ${JSON.stringify(accepted.result)}`);
  return {
    text: String(accepted.args.text),
    threadTs: accepted.args.thread_ts as string | undefined,
    bytes,
    fileId,
    ts: String(accepted.result.ts),
    channel: String(accepted.args.channel),
    blocks: accepted.args.blocks as Block[],
  };
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

/** A click on a message's button, as Slack posts it (`block_actions`). */
export function buttonClick(fields: {
  user: string;
  channel: string;
  message: { ts: string; thread_ts?: string };
  actionId: string;
  value: string;
  responseUrl: string;
}): [string, string] {
  return payloadRequest({
    type: 'block_actions',
    team: { id: TEAM, domain: 'example' },
    user: { id: fields.user, username: fields.user, name: fields.user, team_id: TEAM },
    api_app_id: 'A1',
    token: 'legacy-verification-token',
    trigger_id: `trigger-${Math.random()}`,
    container: {
      type: 'message',
      message_ts: fields.message.ts,
      channel_id: fields.channel,
      is_ephemeral: false,
    },
    channel: { id: fields.channel, name: 'general' },
    message: { type: 'message', user: 'UBOT', bot_id: 'BBOT', text: '', ...fields.message },
    response_url: fields.responseUrl,
    actions: [
      {
        type: 'button',
        action_id: fields.actionId,
        block_id: 'b',
        value: fields.value,
        text: { type: 'plain_text', text: 'button' },
        action_ts: `${Date.now() / 1000}`,
      },
    ],
  });
}

/** A click on a button in the App Home tab (no channel, no response URL). */
export function homeClick(user: string, actionId: string, value: string): [string, string] {
  return payloadRequest({
    type: 'block_actions',
    team: { id: TEAM, domain: 'example' },
    user: { id: user, username: user, name: user, team_id: TEAM },
    api_app_id: 'A1',
    token: 'legacy-verification-token',
    trigger_id: `trigger-${Math.random()}`,
    container: { type: 'view', view_id: 'VHOME' },
    view: { id: 'VHOME', type: 'home', team_id: TEAM, blocks: [], state: { values: {} } },
    actions: [
      {
        type: 'button',
        action_id: actionId,
        block_id: 'b',
        value,
        text: { type: 'plain_text', text: 'button' },
        action_ts: `${Date.now() / 1000}`,
      },
    ],
  });
}
