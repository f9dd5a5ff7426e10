/**
 * Expected failures: a bad photo, an unknown style, a full queue. Each has a code; the sentence
 * a user reads comes from one table, so adapters never match on error strings.
 */
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
  | 'no-sampler'
  | 'no-identity-encoder'
  | 'photo-expired'
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
  'no-sampler':
    "That style can't make random styles (it has no sampler). Pick an exemplar instead.",
  'no-identity-encoder':
    "The identity encoder isn't installed for that style. Try again with the style encoder.",
  'photo-expired': "I don't have that photo any more (cached photos expire). Send it again.",
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

export class UserError extends Error {
  override readonly name: string = 'UserError';

  constructor(
    readonly code: UserErrorCode,
    /** Technical detail for logs; never shown to users. */
    readonly detail?: string,
  ) {
    super(detail ? `${MESSAGES[code]} (${detail})` : MESSAGES[code]);
  }

  /** The sentence to show a user: what happened and what to do. */
  get userMessage(): string {
    return MESSAGES[this.code];
  }
}

/** No human face in the photo. */
export class NoFaceError extends UserError {
  override readonly name = 'NoFaceError';
  constructor(detail?: string) {
    super('no-face', detail);
  }
}
