/**
 * Loaded packs, kept in an LRU bounded by their weight bytes. Packs load on first use and are
 * warmed up at load, so the first request after a start is as fast as later ones.
 */
import { UserError } from '../errors.ts';
import { wPlusEncoderName } from '../pack/manifest.ts';
import { listPacks, openPack, type InstalledPack } from '../pack/store.ts';
import { familyFor, type StyleModel } from '../families/index.ts';
import { LoadedEncoder, packWeightBytes } from './loaded.ts';
import type { SessionOptions } from './session.ts';

export interface PoolOptions {
  /** Directory of installed packs. */
  modelsDir: string;
  /** Weight bytes of style packs kept loaded at once (encoders are not counted). */
  budgetBytes: number;
  session: SessionOptions;
  /** Run each graph on dummy inputs at load (ONNX Runtime's first runs are several times slower). */
  warmup: boolean;
}

interface Entry {
  style: Promise<StyleModel>;
  bytes: number;
}

export class ModelPool {
  private readonly encoders = new Map<string, Promise<LoadedEncoder>>();
  // Map iteration order is insertion order: re-inserting on use makes the first key the LRU.
  private readonly styles = new Map<string, Entry>();

  constructor(private readonly options: PoolOptions) {}

  /** Installed style packs, read from disk (packs may be imported while the bot runs). */
  stylePacks(): InstalledPack[] {
    return listPacks(this.options.modelsDir).filter((p) => p.manifest.kind === 'style');
  }

  private pack(name: string): InstalledPack {
    const found = listPacks(this.options.modelsDir).find((p) => p.manifest.name === name);
    if (!found || found.manifest.kind !== 'style') throw new UserError('unknown-style', name);
    return found;
  }

  encoder(name: string): Promise<LoadedEncoder> {
    let loading = this.encoders.get(name);
    if (!loading) {
      loading = LoadedEncoder.load(
        openPack(this.options.modelsDir, name),
        this.options.session,
      ).then(async (e) => {
        if (this.options.warmup) await warmEncoder(e);
        return e;
      });
      loading.catch(() => this.encoders.delete(name));
      this.encoders.set(name, loading);
    }
    return loading;
  }

  /**
   * The W+ ("identity") encoder paired with `style`'s encoder pack (see `wPlusEncoderName`);
   * `no-identity-encoder` when it is not installed or does not fit the style.
   */
  async identityEncoder(style: StyleModel): Promise<LoadedEncoder> {
    const m = style.manifest;
    const name = wPlusEncoderName(m.encoder);
    let pack: InstalledPack;
    try {
      pack = openPack(this.options.modelsDir, name);
    } catch (error) {
      throw new UserError('no-identity-encoder', (error as Error).message);
    }
    const fits =
      pack.manifest.kind === 'encoder' &&
      pack.manifest.space === 'w+' &&
      pack.manifest.nLatent === m.nLatent &&
      pack.manifest.styleDim === m.styleDim;
    if (!fits) {
      throw new UserError('no-identity-encoder', `${name} is not a W+ encoder that fits ${m.name}`);
    }
    if (!style.acceptsW) {
      const why = `${m.name} was built before W+ content codes: import it again`;
      throw new UserError('no-identity-encoder', why);
    }
    return this.encoder(name);
  }

  /** The loaded style `name` with its encoder; loads (and evicts the least recently used) as needed. */
  async style(name: string): Promise<StyleModel> {
    const hit = this.styles.get(name);
    if (hit) {
      this.styles.delete(name);
      this.styles.set(name, hit);
      return hit.style;
    }
    const pack = this.pack(name);
    if (pack.manifest.kind !== 'style') throw new UserError('unknown-style', name);
    const bytes = packWeightBytes(pack);
    await this.evictFor(bytes);
    const encoderName = pack.manifest.encoder;
    const family = familyFor(pack.manifest.architecture);
    const style = this.encoder(encoderName).then(async (encoder) => {
      const { load, warm } = await family;
      const loaded = await load(pack, encoder, this.options.session);
      if (this.options.warmup) await warm(loaded);
      return loaded;
    });
    style.catch(() => this.styles.delete(name));
    this.styles.set(name, { style, bytes });
    return style;
  }

  private async evictFor(bytes: number): Promise<void> {
    let used = [...this.styles.values()].reduce((a, e) => a + e.bytes, 0);
    for (const [name, entry] of this.styles) {
      if (used + bytes <= this.options.budgetBytes) break;
      this.styles.delete(name);
      used -= entry.bytes;
      await entry.style.then((s) => s.dispose()).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    const styles = [...this.styles.values()];
    this.styles.clear();
    await Promise.all(styles.map((e) => e.style.then((s) => s.dispose()).catch(() => undefined)));
    const encoders = [...this.encoders.values()];
    this.encoders.clear();
    await Promise.all(encoders.map((e) => e.then((x) => x.dispose()).catch(() => undefined)));
  }
}

// Two runs: ONNX Runtime's arena grows on the first and settles on the second (and in
// each family's warm-up).
const WARMUP_RUNS = 2;

async function warmEncoder(encoder: LoadedEncoder): Promise<void> {
  const side = encoder.manifest.inputSize;
  for (let i = 0; i < WARMUP_RUNS; i++)
    await encoder.encode([new Uint8Array(side * side * 3).fill(128)]);
}
