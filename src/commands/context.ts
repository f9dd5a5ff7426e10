/**
 * What every command gets (engine, config, stores, limits) and the shape of a command module:
 * metadata an adapter can register and render, plus a short `run`.
 */
import type { Config } from '../config.ts';
import { type EngineApi, type StyleInfo, UserError } from '../engine/index.ts';
import type { Logger } from '../log.ts';
import type { JobMetrics } from '../metrics.ts';
import type { ActiveJobs } from './active.ts';
import type { ContactSheets } from './contact-sheet.ts';
import type { PlatformForgetters } from './forget.ts';
import type { Limits } from './limits.ts';
import type { RecordStore } from './records.ts';
import type { Caller, Reply } from './types.ts';

/** One option of a command, as a chat platform would offer it. */
export interface CommandOption {
  name: string;
  type: 'image' | 'string' | 'number' | 'integer' | 'boolean';
  description: string;
  required?: boolean;
  min?: number;
  max?: number;
  /** Fixed choices (for `string`); style names are offered by autocomplete instead. */
  choices?: readonly string[];
}

/** What an adapter needs to register a command: `style random`, its words, its options. */
export interface CommandMeta {
  /** Words separated by a space for a subcommand (`style random`). */
  name: string;
  description: string;
  options: readonly CommandOption[];
}

/** Sends one reply; never throws (a failing sink is reported to `onError`). */
export type Send = (reply: Reply) => Promise<void>;

export interface CommandContext {
  readonly engine: EngineApi;
  readonly config: Config;
  readonly records: RecordStore;
  readonly limits: Limits;
  readonly active: ActiveJobs;
  readonly sheets: ContactSheets;
  /** What adapters keep about their users' photos, deleted by `forget`. */
  readonly forgetters: PlatformForgetters;
  /** Every command's metadata, for `help`. */
  readonly catalogue: readonly CommandMeta[];
  readonly onError: (error: unknown) => void;
  readonly metrics?: JobMetrics;
  /** This request's log: its lines carry `requestId` and `userId` (and `jobId` once a job runs). */
  readonly logger: Logger;
  /** This request's id, passed with its jobs so a queue worker's log lines carry it too. */
  readonly requestId?: string;
}

/**
 * A command module. `run` sends its replies through `send` and throws a `UserError` for an
 * expected failure; the caller turns that into the `error` reply.
 *
 * @example
 * export const help: Command<void> = { name: 'help', description: '…', options: [],
 *   run: async (ctx, _caller, _input, send) => send({ kind: 'info', text: '…' }) };
 */
export interface Command<I> extends CommandMeta {
  run(ctx: CommandContext, caller: Caller, input: I, send: Send): Promise<void>;
}

/**
 * The user as the engine and the stores know them. Namespaced by platform, so a Slack user and
 * a Discord user with the same id never share limits, cached photos or `forget`.
 */
export const ownerOf = (who: Pick<Caller, 'platform' | 'userId'>): string =>
  `${who.platform}:${who.userId}`;

/** The channel as the limits know it. */
export const channelOf = (caller: Caller): string =>
  `${caller.platform}:${caller.serverId ?? ''}:${caller.channelId}`;

/** The pack asked for, else the configured default style when installed, else the first one. */
export function pickPack(ctx: CommandContext, name?: string): StyleInfo {
  const styles = ctx.engine.styles();
  const wanted = name ?? ctx.config.models.defaultStyle;
  const found = styles.find((s) => s.name === wanted) ?? (name ? undefined : styles[0]);
  if (!found) throw new UserError('unknown-style', name ?? 'no style pack installed');
  return found;
}

/** The author of a record or job, or `not-author`. */
export function assertAuthor(caller: Caller, owner: string): void {
  if (ownerOf(caller) !== owner) throw new UserError('not-author', `${ownerOf(caller)} ≠ ${owner}`);
}
