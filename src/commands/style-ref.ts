/** Style references in commands: `result:<id>` looked up in the job records, the rest parsed. */
import { parseStyleRef, type ReferableStyle, UserError } from '../engine/index.ts';
import type { CommandContext } from './context.ts';
import type { RecordStyle } from './records.ts';
import { newSeed } from './seeds.ts';

/**
 * The style a reference names. `result:<id>` gives that result's style (anyone's: a style is not
 * private, the photo it was on is never used); a bare `cartoon:random` draws new seeds.
 */
export async function resolveStyleRef(ctx: CommandContext, text: string): Promise<ReferableStyle> {
  const ref = parseStyleRef(text, { newSeed });
  if (ref.kind === 'style') return ref.style;
  const record = await ctx.records.get(ref.jobId);
  if (!record) throw new UserError('unknown-job', ref.jobId);
  return recordedStyle(record.pack, record.style);
}

/** A job record's style as a request's; a user image's style only while its key is kept. */
export function recordedStyle(pack: string, style: RecordStyle): ReferableStyle {
  switch (style.kind) {
    case 'exemplar':
      return { kind: 'exemplar', pack, exemplar: style.id };
    case 'sampled':
      return {
        kind: 'sampled',
        pack,
        structureSeed: style.structureSeed,
        colorSeed: style.colorSeed,
      };
    case 'image':
      if (style.key === undefined) throw new UserError('photo-forgotten', 'exemplar image');
      return { kind: 'cached-image', pack, key: style.key };
    case 'reference': {
      const ref = parseStyleRef(style.reference);
      if (ref.kind !== 'style') throw new UserError('bad-style-ref', style.reference);
      return ref.style;
    }
  }
}
