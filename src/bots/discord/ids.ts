/**
 * Button custom ids. They carry the job id, so a button works with no state in the adapter,
 * after a restart too (Discord allows 100 characters; a job id is a UUID).
 */
import type { RerollMode } from '../../commands/index.ts';

export type ButtonAction =
  | { kind: 'reroll'; mode: RerollMode; jobId: string }
  | { kind: 'cancel'; jobId: string }
  | { kind: 'delete'; jobId: string };

const MODES: readonly RerollMode[] = ['style', 'structure', 'color', 'exemplar'];

/** `reroll:style:<jobId>`, `cancel:<jobId>`, `delete:<jobId>`. */
export function buttonId(action: ButtonAction): string {
  return action.kind === 'reroll'
    ? `reroll:${action.mode}:${action.jobId}`
    : `${action.kind}:${action.jobId}`;
}

/** The action of a custom id, or `undefined` for one this bot did not make. */
export function parseButtonId(id: string): ButtonAction | undefined {
  const [kind, a, b] = id.split(':');
  if (kind === 'reroll' && b && MODES.includes(a as RerollMode)) {
    return { kind, mode: a as RerollMode, jobId: b };
  }
  if ((kind === 'cancel' || kind === 'delete') && a && b === undefined) return { kind, jobId: a };
  return undefined;
}
