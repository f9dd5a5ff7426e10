/**
 * The base of every typed error: a `code` to branch on (never the message), the sentence to
 * show, and the standard `cause`. `forUsers` says who the sentence is for: a chat user (a bad
 * photo, a limit) or the operator (a broken checkpoint, a bad setting), whose errors a chat
 * user sees only as "something went wrong" with a request id. See `describeError` in
 * `src/errors.ts`, the one mapper from errors to replies and CLI messages.
 */
export abstract class PasticheError extends Error {
  abstract readonly code: string;
  /** Whether {@link userMessage} is meant for chat users (else for the operator only). */
  readonly forUsers: boolean = false;

  /** The sentence to show; by default the message. */
  get userMessage(): string {
    return this.message;
  }
}

/**
 * Expected failures: a bad photo, an unknown style, a full queue. Each has a code; the sentence
 * a user reads comes from one table, so adapters never match on error strings.
 */
import { randomBytes } from 'node:crypto';

export type UserErrorCode =
  | 'empty-file'
  | 'not-an-image'
  | 'file-too-large'
  | 'too-many-pixels'
  | 'image-too-small'
  | 'corrupt-image'
  | 'no-face'
  | 'face-too-small'
  | 'unknown-style'
  | 'unknown-exemplar'
  | 'bad-style-ref'
  | 'no-sampler'
  | 'no-identity-encoder'
  | 'photo-expired'
  | 'photo-needed'
  | 'bad-option'
  | 'cancelled'
  | 'timeout'
  | 'busy'
  | 'queue-full'
  | 'user-busy'
  | 'channel-busy'
  | 'rate-limited'
  | 'no-photo'
  | 'photo-forgotten'
  | 'unknown-job'
  | 'not-author'
  | 'job-finished'
  | 'single-exemplar'
  | 'engine-restarted'
  | 'internal';

const MESSAGES: Record<UserErrorCode, string> = {
  'empty-file': 'That file is empty. Try attaching the photo again.',
  'not-an-image': "That file isn't an image I can read. Send a JPEG, PNG, WebP, GIF or AVIF photo.",
  'file-too-large': 'That file is too large. Try a smaller photo (or a screenshot of it).',
  'too-many-pixels': 'That image has too many pixels. Try a smaller photo.',
  'image-too-small': 'That image is too small to find a face in. Try a larger photo.',
  'corrupt-image':
    "That image looks damaged and can't be decoded. Try saving it again or use another photo.",
  'no-face': 'No face found. Try a front-facing photo where the face is clearly visible.',
  'face-too-small':
    'The face is too small in that photo. Try a closer shot or crop the photo around the face.',
  'unknown-style': "I don't know that style. Use `style list` to see the installed styles.",
  'unknown-exemplar':
    'That style has no exemplar by that name or number. Use `style list` to see them.',
  'bad-style-ref':
    "I can't read that style reference. It looks like `cartoon:26`, `cartoon:random:1a2b:3c4d`, `cartoon:26+random:1a2b:3c4d@0.5` or `result:` and a result's id.",
  'no-sampler':
    "That style can't make random styles (it has no sampler). Pick an exemplar instead.",
  'no-identity-encoder':
    "The identity encoder isn't installed for that style. Try again with the style encoder.",
  'photo-expired': "I don't have that photo any more (cached photos expire). Send it again.",
  'photo-needed':
    'To paint the whole photo I need the photo itself (I keep only what the face looked like): attach it again.',
  'bad-option': 'One of the options is out of range.',
  cancelled: 'Cancelled.',
  timeout: 'That took too long and was stopped. Try again in a moment.',
  busy: 'The queue is full right now. Try again in a few minutes.',
  // The command layer appends when to try again ("Try again in ~3 min.") to the limit messages.
  'queue-full': "I'm busy: the queue is full right now.",
  'user-busy':
    'You already have as many jobs in progress as allowed (one running plus a short queue). Wait for one to finish.',
  'channel-busy': 'This channel already has as many jobs in progress as allowed.',
  'rate-limited': "You've reached the hourly limit of portraits.",
  'no-photo': 'Attach a photo with a face (I have no earlier photo of yours).',
  'photo-forgotten':
    "You asked me to forget your photos, so I can't re-roll this one. Send the photo again.",
  'unknown-job': "I don't know that result (it may have expired or been deleted). Start a new one.",
  'not-author': 'Only the person who asked for that result can do this.',
  'job-finished': 'That job has already finished.',
  'single-exemplar': 'That style has only one exemplar. Try a new style instead.',
  'engine-restarted':
    'The image engine crashed while making this one and has been restarted. Try again in a moment.',
  internal: 'Something went wrong on my side. Try again in a moment.',
};

/** Every code, for checking one that crossed a process boundary (the queue). */
export const USER_ERROR_CODES = Object.freeze(Object.keys(MESSAGES) as UserErrorCode[]);

export class UserError extends PasticheError {
  override readonly name: string = 'UserError';
  override readonly forUsers = true;

  constructor(
    readonly code: UserErrorCode,
    /** Technical detail for logs; never shown to users. */
    readonly detail?: string,
    options?: ErrorOptions,
  ) {
    super(detail ? `${MESSAGES[code]} (${detail})` : MESSAGES[code], options);
  }

  /** The sentence to show a user: what happened and what to do. */
  override get userMessage(): string {
    return MESSAGES[this.code];
  }
}

/** No human face in the photo. */
export class NoFaceError extends UserError {
  override readonly name = 'NoFaceError';
  constructor(detail?: string, options?: ErrorOptions) {
    super('no-face', detail, options);
  }
}

/** What to tell someone about an error, from {@link describeError}. */
export interface ErrorDescription {
  code: string;
  /** A sentence without a stack trace. */
  text: string;
  /** Set for an internal error: the id its stack was logged under, shown so a report can cite it. */
  requestId?: string;
}

/** A short id to find an internal error's stack in the logs ("ref 3f9a2c1e"). */
export function newRequestId(): string {
  return randomBytes(4).toString('hex');
}

/**
 * The one mapping from errors to words, for every adapter and the CLI. A typed error gives its
 * sentence and no stack (`audience: 'user'` only takes the ones meant for chat users; the CLI's
 * operator also gets config, checkpoint and download errors). Anything else is internal: the
 * generic sentence with a request id, and `onInternal` logs the error with its stack under it.
 */
export function describeError(
  error: unknown,
  audience: 'user' | 'operator',
  onInternal: (error: unknown, requestId: string) => void,
  /** The id the request's log lines already carry, so the stack is found beside them. */
  requestId: string = newRequestId(),
): ErrorDescription {
  if (error instanceof PasticheError && (error.forUsers || audience === 'operator')) {
    // The operator also reads the technical detail (the message); a user, the sentence only.
    return { code: error.code, text: audience === 'user' ? error.userMessage : error.message };
  }
  onInternal(error, requestId);
  return { code: 'internal', text: `${MESSAGES.internal} (ref ${requestId})`, requestId };
}

/**
 * A file or folder someone named (a photo, an exemplar image, a release folder, an output
 * path) that can't be read or written. An operator's error: the sentence names the path and
 * what the system said, in words rather than an errno.
 */
export class FileAccessError extends PasticheError {
  override readonly name = 'FileAccessError';
  readonly code = 'file-access';

  constructor(
    /** What the path is for, as the sentence starts: "the photo", "--output". */
    readonly what: string,
    readonly path: string,
    /** The operating system's code (ENOENT, EISDIR…), when it gave one. */
    readonly errno: string | undefined,
    /** Whether `path` was to be written: then a missing path means a missing folder. */
    writing: boolean,
    options?: ErrorOptions,
  ) {
    const reason =
      (writing && errno === 'ENOENT' ? "is in a folder that doesn't exist." : undefined) ??
      REASONS[errno ?? ''] ??
      `can't be used (${errno ?? 'unknown error'}).`;
    super(`${what} ${path} ${reason}`, options);
  }

  /** `error`, from reading or writing `path`, as a FileAccessError with it as the cause. */
  static from(
    error: unknown,
    what: string,
    path: string,
    access: 'read' | 'write',
  ): FileAccessError {
    const errno = (error as NodeJS.ErrnoException | undefined)?.code;
    return new FileAccessError(what, path, errno, access === 'write', { cause: error });
  }
}

const REASONS: Record<string, string> = {
  ENOENT: "doesn't exist.",
  EISDIR: 'is a folder, not a file.',
  ENOTDIR: 'is not inside a folder (part of the path is a file).',
  EACCES: "can't be opened: permission denied.",
  EPERM: "can't be opened: permission denied.",
  EROFS: 'is on a read-only file system.',
  ENOSPC: "can't be written: the disk is full.",
  ENAMETOOLONG: 'is too long a name.',
};
