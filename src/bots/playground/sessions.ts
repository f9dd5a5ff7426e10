/**
 * Playground sessions. Only the page load issues one; every API call must present a session it
 * was given, so a client cannot mint a fresh identity (and fresh per-user limits) per request.
 * Each client address holds a bounded number, and sessions idle for long are forgotten.
 */
import { randomBytes } from 'node:crypto';

const SESSION_ID = /^[A-Za-z0-9_-]{22}$/;

export interface SessionLimits {
  /** Live sessions one client address may hold; a page load beyond it is refused. */
  perAddress: number;
  /** All live sessions; the least recently used goes when a new one would pass it. */
  total: number;
  /** A session unused (no request, no open stream) for this long is forgotten. */
  idleMs: number;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = {
  // One browser is one session (tabs share the cookie); a few allow for a second browser.
  perAddress: 8,
  total: 10_000,
  idleMs: 60 * 60 * 1000,
};

interface Session {
  address: string;
  lastSeen: number;
}

export class Sessions {
  /** In least-recently-used order (Map keeps insertion order; a use re-inserts). */
  readonly #sessions = new Map<string, Session>();
  readonly #perAddress = new Map<string, number>();

  constructor(
    private readonly limits: SessionLimits = DEFAULT_SESSION_LIMITS,
    /** Told of each session forgotten, so its event backlog goes too. */
    private readonly onForget: (id: string) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.#sessions.size;
  }

  /** The session `id` names if it was issued and is live (and marks it used), else undefined. */
  use(id: string | undefined): string | undefined {
    if (!id || !SESSION_ID.test(id)) return undefined;
    this.#expire();
    const session = this.#sessions.get(id);
    if (!session) return undefined;
    session.lastSeen = this.now();
    this.#sessions.delete(id);
    this.#sessions.set(id, session);
    return id;
  }

  /** A new session for `address`, or undefined when that address already holds its share. */
  issue(address: string): string | undefined {
    this.#expire();
    if ((this.#perAddress.get(address) ?? 0) >= this.limits.perAddress) return undefined;
    if (this.#sessions.size >= this.limits.total) {
      const oldest = this.#sessions.keys().next().value;
      if (oldest !== undefined) this.#forget(oldest);
    }
    const id = randomBytes(16).toString('base64url');
    this.#sessions.set(id, { address, lastSeen: this.now() });
    this.#perAddress.set(address, (this.#perAddress.get(address) ?? 0) + 1);
    return id;
  }

  #expire(): void {
    const cutoff = this.now() - this.limits.idleMs;
    for (const [id, session] of this.#sessions) {
      // LRU order: the first one seen recently enough ends the sweep.
      if (session.lastSeen > cutoff) break;
      this.#forget(id);
    }
  }

  #forget(id: string): void {
    const session = this.#sessions.get(id);
    if (!session) return;
    this.#sessions.delete(id);
    const left = (this.#perAddress.get(session.address) ?? 1) - 1;
    if (left > 0) this.#perAddress.set(session.address, left);
    else this.#perAddress.delete(session.address);
    this.onForget(id);
  }
}
