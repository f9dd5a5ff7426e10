/**
 * Contact sheets for `style list`: every exemplar of a pack rendered on one fixed random face, so
 * users compare styles rather than faces. Built once per pack version (as the engine reports it:
 * in queue mode the bot has no packs on disk) and page, kept in memory and in the record store
 * (another process, or the next start, reuses it).
 */
import { createHash } from 'node:crypto';
import {
  allowedSizes,
  type EncodedImage,
  type EngineApi,
  type StyleInfo,
} from '../engine/index.ts';
import type { RecordStore } from './records.ts';
import { sheetLayout, tileSheet, TILE } from './sheet-image.ts';

/** Exemplars per sheet: 8 × 6 tiles of 128 px (the official cartoon pack has 317 exemplars). */
export const SHEET_PAGE = 48;
/** The fixed face: a random-face seed, so no one's photo is needed (or shown). */
const FACE_SEED = 'contact-sheet';
/** Previews queue behind users' jobs and run a few at a time, so they never crowd the engine. */
const PRIORITY = -1;
const CONCURRENCY = 4;
const SYSTEM_USER = 'system:contact-sheet';

/** A page of a pack's sheet: which exemplars it shows. */
export interface SheetPage {
  image: EncodedImage;
  page: number;
  pages: number;
  /** Exemplar ids on this page, in grid order (left to right, top to bottom). */
  first: number;
  last: number;
  columns: number;
}

/**
 * @example
 * const sheets = new ContactSheets(engine, records);
 * const { image, first, last } = await sheets.page(pack, 0);
 */
export class ContactSheets {
  readonly #memory = new Map<string, Promise<EncodedImage>>();

  constructor(
    private readonly engine: EngineApi,
    private readonly records: RecordStore,
  ) {}

  /** Page `page` (0-based, clamped) of `pack`'s sheet; concurrent calls share one build. */
  async page(pack: StyleInfo, page: number): Promise<SheetPage> {
    const pages = Math.max(1, Math.ceil(pack.exemplars.length / SHEET_PAGE));
    const p = Math.min(Math.max(0, Math.floor(page)), pages - 1);
    const first = p * SHEET_PAGE;
    const last = Math.min(pack.exemplars.length, first + SHEET_PAGE) - 1;
    const key = `sheet:${this.#checksum(pack)}:${p}`;
    let building = this.#memory.get(key);
    if (!building) {
      building = this.#load(key, pack, first, last);
      this.#memory.set(key, building);
      building.catch(() => this.#memory.delete(key));
    }
    const image = await building;
    return { image, page: p, pages, first, last, columns: sheetLayout(last - first + 1).columns };
  }

  async #load(key: string, pack: StyleInfo, first: number, last: number): Promise<EncodedImage> {
    const stored = await this.records.getBlob(key);
    const { columns, rows } = sheetLayout(last - first + 1);
    if (stored) {
      return { bytes: stored, format: 'jpeg', width: columns * TILE, height: rows * TILE };
    }
    const image = await this.#build(pack, first, last);
    await this.records.setBlob(key, image.bytes);
    return image;
  }

  async #build(pack: StyleInfo, first: number, last: number): Promise<EncodedImage> {
    const size = Math.min(...allowedSizes(pack.size));
    const ids = Array.from({ length: last - first + 1 }, (_, i) => first + i);
    const previews: { id: number; bytes: Uint8Array }[] = [];
    for (let i = 0; i < ids.length; i += CONCURRENCY) {
      const chunk = ids.slice(i, i + CONCURRENCY);
      const results = await Promise.all(
        chunk.map((id) =>
          this.engine.stylize({
            userId: SYSTEM_USER,
            face: { kind: 'random', seed: FACE_SEED },
            style: { kind: 'exemplar', pack: pack.name, exemplar: id },
            size,
            format: 'png',
            priority: PRIORITY,
          }),
        ),
      );
      results.forEach((r, k) => previews.push({ id: chunk[k]!, bytes: r.image.bytes }));
    }
    return tileSheet(previews);
  }

  /** The pack's version and how sheets are drawn: a re-imported pack gets a new sheet. */
  #checksum(pack: StyleInfo): string {
    const hash = createHash('sha256').update(
      `v2:${TILE}:${FACE_SEED}:${pack.name}:${pack.version}`,
    );
    return hash.digest('hex').slice(0, 32);
  }
}
