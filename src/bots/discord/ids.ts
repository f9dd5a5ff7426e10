/**
 * Button custom ids. They carry the job id, so a button works with no state in the adapter,
 * after a restart too (Discord allows 100 characters; a job id is a UUID, a snowflake ≤ 20).
 */
import type { RerollMode } from '../../commands/index.ts';

/** The message a photo came from ("Stylize photo"), to fetch it again for the whole photo. */
export interface MessageRef {
  channelId: string;
  messageId: string;
}

export type ButtonAction =
  | { kind: 'reroll'; mode: RerollMode; jobId: string }
  | { kind: 'pick'; tile: number; jobId: string }
  | { kind: 'whole'; jobId: string; source?: MessageRef }
  | { kind: 'cancel'; jobId: string }
  | { kind: 'delete'; jobId: string };

export const CUSTOM_ID_MAX = 100;
const MODES: readonly RerollMode[] = ['style', 'structure', 'color', 'exemplar', 'fuse'];
const SNOWFLAKE = /^\d{1,20}$/;

/**
 * `reroll:style:<jobId>`, `pick:2:<jobId>`, `whole:<jobId>[:<channelId>:<messageId>]`,
 * `cancel:<jobId>`, `delete:<jobId>`.
 */
export function buttonId(action: ButtonAction): string {
  switch (action.kind) {
    case 'reroll':
      return `reroll:${action.mode}:${action.jobId}`;
    case 'pick':
      return `pick:${action.tile}:${action.jobId}`;
    case 'whole': {
      const { source } = action;
      return `whole:${action.jobId}${source ? `:${source.channelId}:${source.messageId}` : ''}`;
    }
    default:
      return `${action.kind}:${action.jobId}`;
  }
}

/** The action of a custom id, or `undefined` for one this bot did not make. */
export function parseButtonId(id: string): ButtonAction | undefined {
  const [kind, a, b, c, ...rest] = id.split(':');
  if (rest.length > 0 || !a) return undefined;
  if (kind === 'reroll' && b && c === undefined && MODES.includes(a as RerollMode)) {
    return { kind, mode: a as RerollMode, jobId: b };
  }
  if (kind === 'pick' && b && c === undefined && /^[1-9]$/.test(a)) {
    return { kind, tile: Number(a), jobId: b };
  }
  if (kind === 'whole' && b === undefined) return { kind, jobId: a };
  if (kind === 'whole' && b && c && SNOWFLAKE.test(b) && SNOWFLAKE.test(c)) {
    return { kind, jobId: a, source: { channelId: b, messageId: c } };
  }
  if ((kind === 'cancel' || kind === 'delete') && b === undefined) return { kind, jobId: a };
  return undefined;
}
