/**
 * Result images and contact sheets, kept in memory only (never on disk) and only for the
 * session that made them. The oldest go first once the byte budget is spent; a page that asks
 * for an evicted image gets a 404 and says so.
 */
import type { EncodedImage } from '../../engine/index.ts';

interface Stored {
  session: string;
  image: EncodedImage;
}

export class ImageStore {
  // A Map iterates in insertion order, which makes it a cheap LRU: re-insert on use.
  readonly #images = new Map<string, Stored>();
  #bytes = 0;

  constructor(private readonly budgetBytes: number) {}

  put(id: string, session: string, image: EncodedImage): void {
    this.#drop(id);
    this.#images.set(id, { session, image });
    this.#bytes += image.bytes.length;
    for (const [oldest, stored] of this.#images) {
      if (this.#bytes <= this.budgetBytes || oldest === id) break;
      this.#images.delete(oldest);
      this.#bytes -= stored.image.bytes.length;
    }
  }

  get(id: string, session: string): EncodedImage | undefined {
    const stored = this.#images.get(id);
    if (!stored || stored.session !== session) return undefined;
    this.#images.delete(id);
    this.#images.set(id, stored);
    return stored.image;
  }

  /** Deletes one of the session's images (another session's stays). */
  delete(id: string, session: string): void {
    if (this.#images.get(id)?.session === session) this.#drop(id);
  }

  /** `forget`: the session's images go with everything else cached for it. */
  deleteSession(session: string): void {
    for (const [id, stored] of this.#images) if (stored.session === session) this.#drop(id);
  }

  #drop(id: string): void {
    const stored = this.#images.get(id);
    if (!stored) return;
    this.#images.delete(id);
    this.#bytes -= stored.image.bytes.length;
  }
}
