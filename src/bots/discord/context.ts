/** What every handler of the adapter gets, and the few helpers they share. */
import type { BaseInteraction, PartialUser, User } from 'discord.js';
import type { Caller, Commands, Reply } from '../../commands/index.ts';
import type { Config } from '../../config.ts';
import { UserError } from '../../engine/errors.ts';
import { IntakeError, type DownloadPolicy } from './download.ts';
import type { ResultIndex } from './results.ts';
import type { Surface } from './surface.ts';
import { JobView } from './view.ts';

export interface Deps {
  commands: Commands;
  config: Config;
  results: ResultIndex;
  download: DownloadPolicy;
  log: (line: string) => void;
}

/** The platform-neutral caller of a Discord user in a channel (a DM is a channel too). */
export function callerOf(
  user: User | PartialUser,
  channelId: string,
  guildId: string | null,
): Caller {
  return {
    userId: user.id,
    // A partial user (a reaction in a DM) has no name yet; the caller's name is optional.
    ...(user.displayName && { displayName: user.displayName }),
    platform: 'discord',
    channelId,
    ...(guildId && { serverId: guildId }),
  };
}

export const interactionCaller = (i: BaseInteraction): Caller =>
  callerOf(i.user, i.channelId ?? i.user.id, i.guildId);

/** A view whose result messages are remembered, so reactions on them find the job. */
export function jobView(surface: Surface, deps: Deps): JobView {
  return new JobView(surface, {
    onResult: (messageId, jobId) => deps.results.remember(messageId, jobId),
    log: deps.log,
  });
}

/** The `error` reply for an intake failure (or, logged, for anything unexpected). */
export function errorOf(error: unknown, log: (line: string) => void): Reply {
  if (error instanceof IntakeError || error instanceof UserError) {
    return { kind: 'error', code: error.code, text: error.userMessage };
  }
  log(`discord: ${(error as Error).stack ?? String(error)}`);
  const internal = new UserError('internal');
  return { kind: 'error', code: internal.code, text: internal.userMessage };
}
