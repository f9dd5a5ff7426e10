/**
 * What every listener shares: the commands, the Web API client, the store, the photo
 * download, and `run`, which starts a command in the background with its replies rendered in
 * Slack. Listeners acknowledge first and never wait for a job.
 */
import {
  errorReply,
  type Caller,
  type Commands,
  type Reply,
  type ReplySink,
} from '../../commands/index.ts';
import type { Config } from '../../config.ts';
import type { PhotoRef } from './photos.ts';
import { SlackReplies, type ReplyDeps, type ReplyTarget } from './replies.ts';

export interface SlackContext extends ReplyDeps {
  readonly commands: Commands;
  readonly config: Config;
  download(photo: PhotoRef): Promise<Uint8Array>;
  /**
   * Runs `work` (usually one command) in the background, its replies rendered at `target`.
   * Anything `work` throws becomes an error reply, so a failed download reads like a command's.
   */
  run(target: ReplyTarget, work: (sink: ReplySink) => Promise<void>): void;
  /** Runs `work` in the background, with nowhere to answer (App Home): failures are logged. */
  spawn(work: () => Promise<void>): void;
  /** Waits for running work, at most `ms`. */
  drain(ms: number): Promise<void>;
}

/** The Slack user as the command layer sees them. */
export function callerOf(user: string, channel: string, team?: string | null): Caller {
  return { platform: 'slack', userId: user, channelId: channel, ...(team && { serverId: team }) };
}

export function createContext(
  deps: ReplyDeps & Pick<SlackContext, 'commands' | 'config' | 'download'>,
): SlackContext {
  const running = new Set<Promise<void>>();
  const track = (task: Promise<void>): void => {
    running.add(task);
    void task.finally(() => running.delete(task));
  };
  return {
    ...deps,
    run(target, work) {
      const replies = new SlackReplies(deps, target);
      track(
        work(replies.sink)
          .catch((error: unknown) => replies.sink(slackErrorReply(error, deps.log)))
          .then(() => replies.settled()),
      );
    },
    spawn(work) {
      track(
        work().catch((error: unknown) =>
          deps.log(`slack: ${(error as Error).stack ?? String(error)}`),
        ),
      );
    },
    async drain(ms) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
      await Promise.race([Promise.allSettled([...running]), timeout]);
      clearTimeout(timer);
    },
  };
}

function slackErrorReply(error: unknown, log: (line: string) => void): Reply {
  return errorReply(error, (e, id) => log(`slack: ref ${id}: ${(e as Error).stack ?? String(e)}`));
}
