/**
 * Requests as Slack sends them to an HTTP app: form-encoded slash commands, `payload=` JSON for
 * shortcuts, view submissions and options, JSON for events; each signed with the signing
 * secret (`v0=` HMAC-SHA256 of `v0:<timestamp>:<body>`).
 */
import { createHmac } from 'node:crypto';

export const TEAM = 'T1';

export interface Signing {
  secret: string;
  /** Seconds since the epoch; default now. */
  timestamp?: number;
  /** Replaces the computed signature. */
  signature?: string;
  /** A redelivery, as Slack marks one: `x-slack-retry-num` and `x-slack-retry-reason`. */
  retry?: { num: number; reason: string };
}

/** POSTs a signed body to the app's `/slack/events`. */
export async function postSigned(
  url: string,
  body: string,
  contentType: string,
  signing: Signing,
): Promise<{ status: number; text: string }> {
  const timestamp = signing.timestamp ?? Math.floor(Date.now() / 1000);
  const signature =
    signing.signature ??
    `v0=${createHmac('sha256', signing.secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': contentType,
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': signature,
      ...(signing.retry && {
        'x-slack-retry-num': String(signing.retry.num),
        'x-slack-retry-reason': signing.retry.reason,
      }),
    },
    body,
  });
  return { status: response.status, text: await response.text() };
}

const FORM = 'application/x-www-form-urlencoded';

/** A slash command, as Slack posts it. */
export function commandRequest(fields: {
  command: string;
  text: string;
  user: string;
  channel: string;
  responseUrl: string;
  triggerId?: string;
}): [string, string] {
  const body = new URLSearchParams({
    token: 'legacy-verification-token',
    team_id: TEAM,
    team_domain: 'example',
    channel_id: fields.channel,
    channel_name: 'general',
    user_id: fields.user,
    user_name: fields.user.toLowerCase(),
    command: fields.command,
    text: fields.text,
    api_app_id: 'A1',
    response_url: fields.responseUrl,
    trigger_id: fields.triggerId ?? `trigger-${Math.random()}`,
  });
  return [body.toString(), FORM];
}

/** An interactivity payload: shortcut, view submission or options request. */
export function payloadRequest(payload: Record<string, unknown>): [string, string] {
  return [new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), FORM];
}

let eventCounter = 0;

/** An Events API callback around `event`. */
export function eventRequest(event: Record<string, unknown>): [string, string] {
  const body = {
    token: 'legacy-verification-token',
    team_id: TEAM,
    api_app_id: 'A1',
    event,
    type: 'event_callback',
    event_id: `Ev${++eventCounter}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ team_id: TEAM, user_id: 'UBOT', is_bot: true }],
  };
  return [JSON.stringify(body), 'application/json'];
}
