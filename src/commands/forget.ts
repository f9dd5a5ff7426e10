/**
 * `forget`: deletes what is kept for the caller: face codes, kept photos, photo references in
 * records, and what their platform's adapter keeps on its own (registered as forgetters, so the
 * command layer never learns what a platform keeps).
 */
import { ownerOf, type Command } from './context.ts';
import type { Caller } from './types.ts';

/** Deletes what an adapter keeps about one of its users' photos (its own user id). */
export type Forgetter = (userId: string) => Promise<void>;

/** The forgetters adapters registered, by platform. */
export class PlatformForgetters {
  readonly #byPlatform = new Map<Caller['platform'], Set<Forgetter>>();

  /** Returns the unregistration, for an adapter that stops (its store is closed then). */
  add(platform: Caller['platform'], forgetter: Forgetter): () => void {
    const set = this.#byPlatform.get(platform) ?? new Set<Forgetter>();
    this.#byPlatform.set(platform, set);
    // A wrapper, so the same function registered twice is removed once per registration.
    const entry: Forgetter = (userId) => forgetter(userId);
    set.add(entry);
    return () => void set.delete(entry);
  }

  /** Rejects if any forgetter does: "Done" must not be said while something is still kept. */
  async forget(caller: Caller): Promise<void> {
    const set = this.#byPlatform.get(caller.platform);
    await Promise.all([...(set ?? [])].map((forgetter) => forgetter(caller.userId)));
  }
}

export const forget: Command<void> = {
  name: 'forget',
  description: 'Delete everything I keep about your photos.',
  options: [],
  async run(ctx, caller, _input, send) {
    const owner = ownerOf(caller);
    // A job still running would cache its photo again after the deletion: stop those first.
    const mine = ctx.active.all().filter((job) => job.owner === owner);
    for (const job of mine) job.handle.cancel();
    await Promise.all(mine.map((job) => job.finished));
    await ctx.forgetters.forget(caller);
    const codes = await ctx.engine.forget(owner);
    const records = await ctx.records.forget(owner);
    const text =
      `Done. I deleted ${plural(codes, 'cached face code')} and removed your photos from ` +
      `${plural(records, 'result record')}, and any photo I still kept is gone; re-rolling ` +
      'those results now needs the photo again. ' +
      'Images already posted stay in the chat: delete them there.';
    await send({ kind: 'info', text });
  },
};

const plural = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;
