/** What every handler of the adapter gets, and the few helpers they share. */
import type { BaseInteraction, Channel, PartialUser, User } from 'discord.js';
import { errorReply, type Caller, type Commands, type Reply } from '../../commands/index.ts';
import type { Config } from '../../config.ts';
import type { DownloadPolicy } from './download.ts';
import type { MessageRef } from './ids.ts';
import {
  botPermissionsIn,
  missingNames,
  missingText,
  MissingPermissionError,
  neededPermissions,
} from './permissions.ts';
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
  user: Pick<User | PartialUser, 'id'> & { displayName?: string | null },
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

/**
 * A view whose result messages are remembered, so reactions on them find the job. A job that
 * cannot be shown (a permission missing, the interaction about to expire) is cancelled and the
 * caller's quota given back.
 */
export function jobView(
  surface: Surface,
  deps: Deps,
  where: {
    caller: Caller;
    channel: () => Channel | null;
    /** Whose avatar the result shows, when not the caller's: they may delete it. */
    subject?: string;
    /** The message the photo came from, where there is one to fetch again. */
    photoSource?: MessageRef;
  },
): JobView {
  const end = async (jobId: string | undefined): Promise<void> => {
    if (!jobId) return;
    await deps.commands.cancel(where.caller, { jobId }, () => undefined);
    await deps.commands.refundQuota(where.caller);
  };
  return new JobView(surface, {
    async onResult(messageId, jobId) {
      await deps.results.remember(messageId, jobId);
      if (where.subject) await deps.results.rememberSubject(messageId, where.subject);
    },
    onStop: end,
    ...(where.photoSource && { photoSource: where.photoSource }),
    async onDenied(jobId, error) {
      await end(jobId);
      if (error instanceof MissingPermissionError) return missingText(error.missing);
      const channel = where.channel();
      const have = botPermissionsIn(channel);
      const thread = channel?.isThread() ?? false;
      const needed = neededPermissions({ channelFallback: true, thread });
      return missingText(have ? missingNames(have, needed) : []);
    },
    log: deps.log,
  });
}

/** The `error` reply for an intake failure (or, logged, for anything unexpected). */
export function errorOf(error: unknown, log: (line: string) => void): Reply {
  return errorReply(error, (e, id) =>
    log(`discord: ref ${id}: ${(e as Error).stack ?? String(e)}`),
  );
}
