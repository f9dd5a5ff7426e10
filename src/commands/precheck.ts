/**
 * The cheap checks of the image commands, without running them: limits, the style, a photo to
 * use, the author of a result. A chat platform fixes a reply's visibility when it acknowledges,
 * so an adapter asks these first and answers a refusal privately; what passes is then run (and
 * the command checks again, since another job may take the last slot in between).
 */
import { allowedSizes, UserError } from '../engine/index.ts';
import { assertAuthor, channelOf, ownerOf, pickPack, type CommandContext } from './context.ts';
import type { RerollMode } from './reroll.ts';
import { assertPastable } from './whole-photo.ts';
import type { Caller } from './types.ts';

/** A command about to be acknowledged, as far as its cheap checks need to know it. */
export type Precheck =
  /** `photo`: whether one comes with the command (else the caller's last one is needed). */
  | {
      command: 'stylize';
      pack?: string;
      photo: boolean;
      size?: number;
    }
  | { command: 'styleRandom'; pack?: string }
  | { command: 'reroll'; jobId: string; mode: RerollMode }
  | { command: 'pick'; jobId: string; tile: number }
  /** Whether the photo is still kept is the engine's to find out: `photo-needed` comes later. */
  | { command: 'wholePhoto'; jobId: string };

/** Throws the `UserError` the command would refuse with before any real work. */
export async function precheck(ctx: CommandContext, caller: Caller, p: Precheck): Promise<void> {
  const owner = ownerOf(caller);
  if (p.command === 'stylize') {
    const pack = pickPack(ctx, p.pack);
    if (p.size !== undefined && !allowedSizes(pack.size).includes(p.size)) {
      throw new UserError(
        'bad-option',
        `size must be one of ${allowedSizes(pack.size).join(', ')}`,
      );
    }
    if (!p.photo && !(await ctx.records.lastPhoto(owner))) throw new UserError('no-photo');
  } else if (p.command === 'styleRandom') {
    pickPack(ctx, p.pack);
  } else {
    const record = await ctx.records.get(p.jobId);
    if (!record) throw new UserError('unknown-job', p.jobId);
    if (record.face.kind !== 'random') assertAuthor(caller, ownerOf(record));
    if (p.command === 'wholePhoto') assertPastable(record);
    if (record.face.kind === 'forgotten') throw new UserError('photo-forgotten', p.jobId);
    const pack = pickPack(ctx, record.pack);
    if (p.command === 'pick' && record.tiles?.[p.tile - 1] === undefined) {
      throw new UserError('bad-option', `tile ${p.tile} of ${record.tiles?.length ?? 0}`);
    }
    if (
      p.command === 'reroll' &&
      (p.mode === 'structure' || p.mode === 'color') &&
      !pack.hasSampler
    ) {
      throw new UserError('no-sampler', pack.name);
    }
  }
  await ctx.limits.check(owner, channelOf(caller));
}
