/**
 * Admission limits, on `rate-limiter-flexible`: per user (jobs in progress, jobs per hour), per
 * channel (jobs in progress) and for everyone (the queue length, for backpressure). Counters live
 * in memory, or in Redis when the store URL is `redis://` so every process shares them.
 */
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import type { Config } from '../config.ts';
import { connectRedis } from '../stores/redis.ts';
import { UserError, type UserErrorCode } from '../engine/index.ts';

/** A refusal by a limit: the user may try again after `retryAfterMs`. */
export class LimitError extends UserError {
  override readonly name = 'LimitError';
  constructor(
    code: UserErrorCode,
    readonly retryAfterMs: number,
    detail?: string,
  ) {
    super(code, detail);
  }
}

/**
 * Whether `error` turned a request away for want of room (a limit, or the engine's queue full or
 * closing) rather than for what it asked: these are what `/metrics` counts as refusals.
 */
export function isRefusal(error: unknown): error is UserError {
  return error instanceof LimitError || (error instanceof UserError && error.code === 'busy');
}

/** How long until a slot frees, from what this process knows of its jobs. */
export interface WaitEstimates {
  /** Until one of the owner's jobs in progress finishes. */
  owner(owner: string): number;
  /** Until one of the channel's jobs in progress finishes. */
  channel(channel: string): number;
  /** Until a queue of `length` jobs has drained ("busy, try again in ~N min"). */
  queue(length: number): number;
}

/** Gives back the in-progress slots a job took; safe to call more than once. */
export type Release = () => Promise<void>;

export interface Limits {
  /** Takes a slot for one job, or throws a {@link LimitError} saying when to try again. */
  admit(owner: string, channel: string): Promise<Release>;
  /**
   * Counts `images − 1` more against the owner's hourly allowance, after a job that made several
   * (every face of a group photo, a grid's tiles): each is the work of a job. It never refuses
   * (the work is done); the next `admit` does, once the hour is used up.
   */
  charge(owner: string, images: number): Promise<void>;
  /**
   * Throws the {@link LimitError} `admit` would throw now, taking nothing: lets an adapter refuse
   * privately before it acknowledges. `admit` still decides (another job may come in between).
   */
  check(owner: string, channel: string): Promise<void>;
  /** Gives back one of the hour's jobs, for a job the platform would not let us show. */
  refund(owner: string): Promise<void>;
  close(): Promise<void>;
}

export interface LimitsOptions {
  limits: Config['limits'];
  /** The keyv URL; `redis://…` puts the counters in that Redis, anything else in memory. */
  url: string;
  /** `cache.keyPrefix`: counters are `<keyPrefix>:limits:<limit>:<key>`. Default `pastiche`. */
  keyPrefix?: string;
  estimates: WaitEstimates;
  /** Background Redis errors (a dropped connection being retried); admissions still throw. */
  onError: (error: unknown) => void;
}

/**
 * In Redis, in-progress counters expire after this long, so a process that crashed holding slots
 * blocks nobody for longer. In memory they never expire (they die with the process anyway).
 */
const IN_PROGRESS_TTL_S = 3600;
const HOUR_S = 3600;

/**
 * @example
 * const limits = await createLimits({ limits: config.limits, url: config.cache.url, estimates });
 * const release = await limits.admit('discord:42', 'discord:#art'); // throws LimitError when full
 * try { await runTheJob(); } finally { await release(); }
 */
export async function createLimits(options: LimitsOptions): Promise<Limits> {
  const { limits, estimates } = options;
  const redis = /^rediss?:\/\//.test(options.url)
    ? await connectRedis(options.url, {
        what: 'limits',
        connectTimeoutMs: 5000,
        onError: options.onError,
      })
    : undefined;
  const limiter = (name: string, points: number, inProgress: boolean): RateLimiterAbstract => {
    const keyPrefix = `${options.keyPrefix ?? 'pastiche'}:limits:${name}`;
    if (!redis)
      return new RateLimiterMemory({ keyPrefix, points, duration: inProgress ? 0 : HOUR_S });
    const duration = inProgress ? IN_PROGRESS_TTL_S : HOUR_S;
    return new RateLimiterRedis({
      storeClient: redis,
      useRedisPackage: true,
      keyPrefix,
      points,
      duration,
    });
  };
  const perOwner = limiter('owner', limits.perUserRunning + limits.perUserQueued, true);
  const perChannel = limiter('channel', limits.perChannelConcurrency, true);
  const global = limiter('global', limits.globalQueue, true);
  const hourly = limiter('hourly', limits.perUserPerHour, false);

  return {
    async admit(owner, channel) {
      const taken: [RateLimiterAbstract, string][] = [];
      const release: Release = async () => {
        for (const [l, key] of taken.splice(0)) await giveBack(l, key);
      };
      try {
        await take(perOwner, owner, 'user-busy', () => estimates.owner(owner));
        taken.push([perOwner, owner]);
        await take(perChannel, channel, 'channel-busy', () => estimates.channel(channel));
        taken.push([perChannel, channel]);
        await take(global, 'all', 'queue-full', (n) => estimates.queue(n));
        taken.push([global, 'all']);
        // Last, so a refusal by the limits above does not use up the hour's allowance.
        await take(hourly, owner, 'rate-limited', (_n, res) => res.msBeforeNext, false);
        return release;
      } catch (error) {
        await release();
        throw error;
      }
    },
    async charge(owner, images) {
      if (images > 1) await hourly.penalty(owner, images - 1);
    },
    async check(owner, channel) {
      await peek(perOwner, owner, 'user-busy', () => estimates.owner(owner));
      await peek(perChannel, channel, 'channel-busy', () => estimates.channel(channel));
      await peek(global, 'all', 'queue-full', (n) => estimates.queue(n));
      await peek(hourly, owner, 'rate-limited', (_n, res) => res.msBeforeNext);
    },
    async refund(owner) {
      await giveBack(hourly, owner);
    },
    async close() {
      if (redis?.isOpen) await redis.close();
    },
  };
}

/**
 * Consumes a point; on refusal undoes it (the library counts refused attempts too, which for an
 * in-progress counter would leak a slot) and throws with the estimate of when to come back.
 */
async function take(
  limiter: RateLimiterAbstract,
  key: string,
  code: UserErrorCode,
  retryAfter: (inProgress: number, res: RateLimiterRes) => number,
  undo = true,
): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (refusal) {
    if (!(refusal instanceof RateLimiterRes)) throw refusal;
    if (undo) await giveBack(limiter, key);
    const inProgress = refusal.consumedPoints - 1;
    const ms = Math.max(1000, Math.round(retryAfter(inProgress, refusal)));
    throw new LimitError(code, ms, `${key}: ${inProgress} of ${limiter.points}`);
  }
}

/** Throws as {@link take} would if the limiter is full, without consuming. */
async function peek(
  limiter: RateLimiterAbstract,
  key: string,
  code: UserErrorCode,
  retryAfter: (inProgress: number, res: RateLimiterRes) => number,
): Promise<void> {
  const res = await limiter.get(key);
  if (!res || res.consumedPoints < limiter.points) return;
  const ms = Math.max(1000, Math.round(retryAfter(res.consumedPoints, res)));
  throw new LimitError(code, ms, `${key}: ${res.consumedPoints} of ${limiter.points}`);
}

async function giveBack(limiter: RateLimiterAbstract, key: string): Promise<void> {
  const res = await limiter.reward(key);
  // A Redis counter that expired while its jobs ran would go negative (extra slots): reset it.
  if (res.consumedPoints <= 0) await limiter.delete(key);
}
