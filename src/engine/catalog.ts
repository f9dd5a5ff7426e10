/**
 * The installed packs as the engine's process knows them: manifests only (the models live in the
 * inference host). Read from disk on each call, so a pack installed while the bot runs is seen.
 */
import { createHash } from 'node:crypto';
import { UserError } from './errors.ts';
import { wPlusEncoderName, type EncoderManifest, type StyleManifest } from './pack/manifest.ts';
import { listPacks } from './pack/store.ts';
import type { EncoderChoice } from './request.ts';
import type { StyleInfo } from './results.ts';

/** A style pack and the encoder pack it pairs with. */
export interface PackInfo {
  manifest: StyleManifest;
  encoder: EncoderManifest;
}

export class PackCatalog {
  constructor(private readonly modelsDir: string) {}

  /** Installed style packs, as `styles()` answers them. */
  styles(): StyleInfo[] {
    return this.stylePacks().map((m) => ({
      name: m.name,
      size: m.size,
      exemplars: m.exemplars,
      defaults: m.defaults,
      hasSampler: m.hasSampler,
      demo: m.demo,
      licence: m.licence,
      version: packVersion(m),
    }));
  }

  /** The style pack `name` and its encoder; `unknown-style` when no such style is installed. */
  style(name: string): PackInfo {
    const style = this.manifest(name);
    if (!style || style.kind !== 'style') throw new UserError('unknown-style', name);
    const encoder = this.manifest(style.encoder);
    if (!encoder || encoder.kind !== 'encoder') {
      throw new Error(`${name} needs encoder pack ${style.encoder}, which is not installed`);
    }
    return { manifest: style, encoder };
  }

  /**
   * The manifest of the encoder `choice` names for `pack`: its own, or the W+ ("identity")
   * encoder paired with it (`no-identity-encoder` when it is not installed or does not fit; the
   * host also refuses a generator built before W+ content codes).
   */
  encoderFor(pack: PackInfo, choice: EncoderChoice): EncoderManifest {
    if (choice === 'style') return pack.encoder;
    const m = pack.manifest;
    const name = wPlusEncoderName(m.encoder);
    const found = this.manifest(name);
    if (!found) throw new UserError('no-identity-encoder', `${name} is not installed`);
    const fits =
      found.kind === 'encoder' &&
      found.space === 'w+' &&
      found.nLatent === m.nLatent &&
      found.styleDim === m.styleDim;
    if (!fits || found.kind !== 'encoder') {
      throw new UserError('no-identity-encoder', `${name} is not a W+ encoder that fits ${m.name}`);
    }
    return found;
  }

  private stylePacks(): StyleManifest[] {
    return listPacks(this.modelsDir).flatMap(({ manifest: m }) => (m.kind === 'style' ? [m] : []));
  }

  private manifest(name: string) {
    return listPacks(this.modelsDir).find((p) => p.manifest.name === name)?.manifest;
  }
}

/** A digest of what the pack's images depend on: its files, its encoder pack and its making. */
function packVersion(m: StyleManifest): string {
  const what = JSON.stringify({ files: m.files, encoder: m.encoder, createdAt: m.createdAt });
  return createHash('sha256').update(what).digest('hex').slice(0, 16);
}
