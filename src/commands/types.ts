/**
 * The platform-neutral command layer's contract. Adapters (playground, Discord, Slack) turn
 * their events into a {@link CommandContext} plus a typed input, and render the {@link Reply}
 * events a command emits. No platform SDK type appears here.
 */
import type { EncodedImage } from '../engine/index.ts';

/** Who asked, and where. */
export interface Caller {
  userId: string;
  /** Shown in replies ("@name"); optional. */
  displayName?: string;
  platform: 'playground' | 'discord' | 'slack' | 'cli';
  /** A channel, DM or playground session: the unit of per-channel concurrency. */
  channelId: string;
  /** A Discord guild or Slack workspace, when there is one. */
  serverId?: string;
}

/** What the parameters of a result were, to show under the image and to re-roll from. */
export interface ResultParams {
  pack: string;
  style: string;
  structure: number;
  color: number;
  preserveColor: boolean;
  size: number;
  faceCount?: number;
  /** Faces stylized and pasted back into the photo (`faces: all` or the whole photo). */
  faces?: number;
  reconstruct?: boolean;
  /** A random portrait: no photo to paste back into. */
  randomFace?: boolean;
  /** A grid or strip: how many pictures it holds (`pick` keeps one). */
  tiles?: number;
  /** The style's reference: `stylize style:` takes it back (style-ref.ts). */
  reference: string;
}

export type Stage = 'queued' | 'warming-up' | 'aligning' | 'encoding' | 'generating';

/** What a command tells the adapter, in order; the adapter renders each once. */
export type Reply =
  /**
   * Progress of a job: one status message, edited as it changes. `preview`: a first look at the
   * result (a small JPEG, at most one per job, while generating), shown until the result
   * replaces it; an adapter that cannot show it shows the text.
   */
  | {
      kind: 'status';
      jobId: string;
      stage: Stage;
      position?: number;
      text: string;
      preview?: EncodedImage;
    }
  /** A finished image; `jobId` is what re-roll buttons and reactions refer to. */
  | { kind: 'result'; jobId: string; image: EncodedImage; text: string; params: ResultParams }
  /** A refusal or failure, in words a user understands, with when to try again if relevant. */
  | { kind: 'error'; code: string; text: string; retryAfterMs?: number; requestId?: string }
  /** Plain information (help, privacy, style list), with an optional picture (contact sheet). */
  | { kind: 'info'; text: string; image?: EncodedImage };

/** Where a command sends its replies. */
export type ReplySink = (reply: Reply) => void | Promise<void>;

/** Where a bug goes: logged with its stack, under the request id its user was shown (if any). */
export type OnError = (error: unknown, requestId?: string) => void;
