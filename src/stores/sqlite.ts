import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

import Database from 'better-sqlite3';
import type { KeyvStoreAdapter, StoredData } from 'keyv';

/**
 * A keyv store over a SQLite file that keeps values as BLOBs and expires rows by itself.
 *
 * Why not `@keyv/sqlite`: its 4.x line (the one for keyv 5 on Node 20) keeps values in a TEXT
 * column, so bytes would go through base64, and it has no TTL of its own: an entry nobody reads
 * again stays on disk forever, which for codes derived from users' photos is the wrong default.
 * It also drags in `sqlite3` 5 with node-gyp 8 and its deprecated tree. `better-sqlite3` (12.x;
 * 13 needs Node 22) is the driver `@keyv/sqlite` itself moves to in its next major.
 *
 * Keyv must be created with `serialize: undefined`, so `set` receives `{ value, expires }` as is.
 *
 * @example
 * const keyv = new Keyv<Uint8Array>({ store: new SqliteBlobStore('cache/latents.sqlite'),
 *   serialize: undefined, deserialize: undefined });
 */
export class SqliteBlobStore extends EventEmitter implements KeyvStoreAdapter {
  readonly opts: { readonly dialect: 'sqlite'; readonly path: string };
  namespace?: string | undefined;

  readonly #db: Database.Database;
  readonly #sweeper: NodeJS.Timeout;
  readonly #select: Database.Statement<[string], Row>;
  readonly #upsert: Database.Statement<[string, Uint8Array, number | null]>;
  readonly #delete: Database.Statement<[string]>;
  readonly #deletePrefix: Database.Statement<[{ prefix: string }]>;
  readonly #sweep: Database.Statement<[number]>;

  constructor(path: string, { sweepEveryMs = 3_600_000 }: { sweepEveryMs?: number } = {}) {
    super();
    this.opts = { dialect: 'sqlite', path };
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.#db = new Database(path);
    // WAL lets a reader (another process, a backup) look while the bot writes.
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('busy_timeout = 5000');
    this.#db.exec(`CREATE TABLE IF NOT EXISTS cache (
      key TEXT PRIMARY KEY, value BLOB NOT NULL, expires INTEGER);
      CREATE INDEX IF NOT EXISTS cache_expires ON cache(expires) WHERE expires IS NOT NULL;`);
    this.#select = this.#db.prepare('SELECT value, expires FROM cache WHERE key = ?');
    this.#upsert = this.#db.prepare(
      `INSERT INTO cache (key, value, expires) VALUES (?, ?, ?)
       ON CONFLICT(key) DO UPDATE SET value = excluded.value, expires = excluded.expires`,
    );
    this.#delete = this.#db.prepare('DELETE FROM cache WHERE key = ?');
    // substr rather than LIKE: a namespace may contain LIKE's wildcards.
    this.#deletePrefix = this.#db.prepare(
      'DELETE FROM cache WHERE substr(key, 1, length(@prefix)) = @prefix',
    );
    this.#sweep = this.#db.prepare('DELETE FROM cache WHERE expires IS NOT NULL AND expires < ?');
    this.sweep();
    this.#sweeper = setInterval(() => this.sweep(), sweepEveryMs).unref();
  }

  /** Deletes every expired row; runs at open and then periodically. */
  sweep(): void {
    try {
      this.#sweep.run(Date.now());
    } catch (error) {
      this.emit('error', error);
    }
  }

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    const row = this.#select.get(key);
    if (!row) return undefined;
    // Keyv reads this shape as already deserialized and checks `expires` itself.
    const data: { value: Uint8Array; expires: number | undefined } = {
      value: row.value,
      expires: row.expires ?? undefined,
    };
    return data as StoredData<Value>;
  }

  async set(key: string, data: unknown): Promise<boolean> {
    if (!isStoredBytes(data)) {
      throw new TypeError('SqliteBlobStore holds bytes: create Keyv with serialize: undefined');
    }
    this.#upsert.run(key, data.value, data.expires ?? null);
    return true;
  }

  async delete(key: string): Promise<boolean> {
    return this.#delete.run(key).changes > 0;
  }

  async deleteMany(keys: string[]): Promise<boolean> {
    const run = this.#db.transaction((all: string[]) =>
      all.reduce((n, key) => n + this.#delete.run(key).changes, 0),
    );
    return run(keys) > 0;
  }

  async clear(): Promise<void> {
    this.#deletePrefix.run({ prefix: this.namespace ? `${this.namespace}:` : '' });
  }

  async disconnect(): Promise<void> {
    clearInterval(this.#sweeper);
    if (this.#db.open) this.#db.close();
  }
}

interface Row {
  value: Uint8Array;
  expires: number | null;
}

function isStoredBytes(data: unknown): data is { value: Uint8Array; expires?: number } {
  if (typeof data !== 'object' || data === null || !('value' in data)) return false;
  const expires = 'expires' in data ? data.expires : undefined;
  return data.value instanceof Uint8Array && (expires === undefined || typeof expires === 'number');
}
