/**
 * What the playground server and its page say to each other. Types only: the page's bundle
 * imports them too, so they must not pull in any Node code.
 */
import type { RerollMode } from '../../commands/index.ts';
import type { ResultParams, Stage } from '../../commands/types.ts';
import type { StyleInfo } from '../../engine/index.ts';

/** An image the server keeps in memory, fetched by the page from `url`. */
export interface WireImage {
  url: string;
  width: number;
  height: number;
  format: string;
}

/**
 * A command's reply as JSON: images become URLs. `done` ends every request. A status's
 * `preview` is a first look at the result, shown until the result takes its place.
 */
export type WireReply =
  | {
      kind: 'status';
      jobId: string;
      stage: Stage;
      position?: number;
      text: string;
      preview?: WireImage;
    }
  | { kind: 'result'; jobId: string; image: WireImage; text: string; params: ResultParams }
  | { kind: 'error'; code: string; text: string; retryAfterMs?: number }
  | { kind: 'info'; text: string; image?: WireImage }
  | { kind: 'done' };

/** One Server-Sent Event (`event: reply`): a reply to the request the page named. */
export interface WireEvent {
  requestId: string;
  reply: WireReply;
}

/** `GET /api/state`: what the page needs to draw its controls. */
export interface PlaygroundState {
  styles: StyleInfo[];
  defaultPack?: string;
  /** Shown as a banner, e.g. that the demo pack has random weights. */
  notice?: string;
}

/** Modes of `POST /api/reroll` and `POST /api/command` names. */
export const REROLL_MODES = [
  'style',
  'structure',
  'color',
  'exemplar',
  'fuse',
] as const satisfies readonly RerollMode[];
export const TEXT_COMMANDS = ['help', 'privacy', 'forget', 'styles'] as const;
export type TextCommand = (typeof TEXT_COMMANDS)[number];

/** Header carrying the page's id for a request, echoed in every event it causes. */
export const REQUEST_ID_HEADER = 'x-request-id';
export const REQUEST_ID = /^[A-Za-z0-9_-]{1,64}$/;
