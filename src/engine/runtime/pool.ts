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
  /**
   * Weight bytes of style packs and W+ encoders kept loaded at once. The z+ encoder every style
   * is built on (it holds the shared mapping network) stays loaded and is not counted.
   */
  budgetBytes: number;
  session: SessionOptions;
  /** Run each graph on dummy inputs at load (ONNX Runtime's first runs are several times slower). */
  warmup: boolean;
}

interface Entry {
  loaded: Promise<StyleModel | LoadedEncoder>;
  bytes: number;
}

/** What the pool holds within its budget, least recently used first. */
export interface Resident {
  kind: 'style' | 'identity-encoder';
  name: string;
  bytes: number;
}

export class ModelPool {
  /** z+ encoders, shared by the styles built on them. */
  private readonly encoders = new Map<string, Promise<LoadedEncoder>>();
  // One LRU for everything the budget counts, keyed `style:<name>` / `identity-encoder:<name>`.
  // Map iteration order is insertion order: re-inserting on use makes the first key the LRU.
  private readonly lru = new Map<string, Entry>();

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
    // Nothing else holds a W+ encoder (styles map z+ codes), so it may be evicted like a style.
    return this.cached(
      `identity-encoder:${name}`,
      packWeightBytes(pack),
      () =>
        LoadedEncoder.load(pack, this.options.session).then(async (e) => {
          if (this.options.warmup) await warmEncoder(e);
          return e;
        }),
      `style:${m.name}`,
    );
  }

  /** The loaded style `name` with its encoder; loads (and evicts the least recently used) as needed. */
  async style(name: string): Promise<StyleModel> {
    const key = `style:${name}`;
    const hit = this.lru.get(key);
    if (hit) return this.touch(key, hit) as Promise<StyleModel>;
    const pack = this.pack(name);
    if (pack.manifest.kind !== 'style') throw new UserError('unknown-style', name);
    const { encoder: encoderName, architecture } = pack.manifest;
    return this.cached(key, packWeightBytes(pack), () =>
      this.encoder(encoderName).then(async (encoder) => {
        const { load, warm } = await familyFor(architecture);
        const loaded = await load(pack, encoder, this.options.session);
        if (this.options.warmup) await warm(loaded);
        return loaded;
      }),
    );
  }

  /** Styles and W+ encoders loaded within the budget, least recently used first. */
  resident(): Resident[] {
    return [...this.lru].map(([key, { bytes }]) => {
      const [kind, name] = splitKey(key);
      return { kind, name, bytes };
    });
  }

  private touch(key: string, hit: Entry): Entry['loaded'] {
    this.lru.delete(key);
    this.lru.set(key, hit);
    return hit.loaded;
  }

  /** The entry `key`, or `load` it after evicting the least recently used to make room. */
  private async cached<T extends StyleModel | LoadedEncoder>(
    key: string,
    bytes: number,
    load: () => Promise<T>,
    keep?: string,
  ): Promise<T> {
    // The entry under a key always holds what its load() made: styles under `style:`, W+
    // encoders under `identity-encoder:`.
    const hit = this.lru.get(key);
    if (hit) return this.touch(key, hit) as Promise<T>;
    await this.evictFor(bytes, keep);
    // Another call may have started the same load while this one waited for an eviction.
    const raced = this.lru.get(key);
    if (raced) return this.touch(key, raced) as Promise<T>;
    const loaded = load();
    const entry: Entry = { loaded, bytes };
    loaded.catch(() => {
      if (this.lru.get(key) === entry) this.lru.delete(key);
    });
    this.lru.set(key, entry);
    return loaded;
  }

  /**
   * Evicts the least recently used entries until `bytes` more fit, never `keep` (the style a
   * job is loading a W+ encoder for): a style and its W+ encoder that alone exceed the budget
   * are both loaded, as one style larger than the budget is.
   */
  private async evictFor(bytes: number, keep?: string): Promise<void> {
    let used = [...this.lru.values()].reduce((a, e) => a + e.bytes, 0);
    for (const [key, entry] of this.lru) {
      if (used + bytes <= this.options.budgetBytes) break;
      if (key === keep) continue;
      this.lru.delete(key);
      used -= entry.bytes;
      await dispose(entry);
    }
  }

  async close(): Promise<void> {
    const entries = [...this.lru.values()];
    this.lru.clear();
    await Promise.all(entries.map(dispose));
    const encoders = [...this.encoders.values()];
    this.encoders.clear();
    await Promise.all(encoders.map((e) => e.then((x) => x.dispose()).catch(() => undefined)));
  }
}

function dispose(entry: Entry): Promise<void> {
  return entry.loaded.then((m) => m.dispose()).catch(() => undefined);
}

function splitKey(key: string): [Resident['kind'], string] {
  const at = key.indexOf(':');
  return [key.slice(0, at) as Resident['kind'], key.slice(at + 1)];
}

// Two runs: ONNX Runtime's arena grows on the first and settles on the second.
const WARMUP_RUNS = 2;

async function warmEncoder(encoder: LoadedEncoder): Promise<void> {
  const side = encoder.manifest.inputSize;
  for (let i = 0; i < WARMUP_RUNS; i++)
    await encoder.encode([new Uint8Array(side * side * 3).fill(128)]);
}
