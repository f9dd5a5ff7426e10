/** What the queue needs to know about a job to order it. */
export interface FairItem {
  readonly userId: string;
  /** Higher runs first. */
  readonly priority: number;
}

interface Slot<J> {
  readonly job: J;
  /** Virtual start time: the user's turn number within the job's priority level. */
  readonly start: number;
  readonly seq: number;
}

/**
 * Strict priority between levels; round-robin by user within a level.
 *
 * The round-robin is start-time fair queuing with unit cost: a job's tag is one past its user's
 * previous live job, or the level's current round if the user has none, and the lowest tag runs
 * first (ties in arrival order). Unlike a rotating list of users, this needs no notion of "whose
 * turn is it" and gives a newcomer the very next slot even when the only other user's job is the
 * one running: A's 5 jobs then B's 1 run A1 (already started), B1, A2…, so B waits behind at most
 * one of A's jobs. The order of queued jobs never changes once set, so the queue is kept sorted
 * and positions are indices.
 *
 * @example
 * const q = new FairQueue<{ userId: string; priority: number }>();
 * q.push({ userId: 'a', priority: 0 });
 * q.shift(); // the job that runs next
 */
export class FairQueue<J extends FairItem> {
  readonly #slots: Slot<J>[] = [];
  /** Per priority level: the highest tag dispatched so far (the current round). */
  readonly #round = new Map<number, number>();
  /** Per level and user: the tag of the user's newest job, while it can still matter. */
  readonly #last = new Map<string, number>();
  #seq = 0;

  get size(): number {
    return this.#slots.length;
  }

  /** Queued jobs in the order they will run. */
  ordered(): J[] {
    return this.#slots.map((s) => s.job);
  }

  push(job: J): void {
    const round = this.#round.get(job.priority) ?? 0;
    const previous = this.#last.get(userKey(job));
    const start = previous === undefined ? round : Math.max(round, previous + 1);
    this.#last.set(userKey(job), start);
    const slot: Slot<J> = { job, start, seq: this.#seq++ };
    const at = this.#slots.findIndex((s) => before(slot, s));
    this.#slots.splice(at < 0 ? this.#slots.length : at, 0, slot);
  }

  /** Takes the job that runs next. */
  shift(): J | undefined {
    const slot = this.#slots.shift();
    if (slot) this.#dispatched(slot);
    return slot?.job;
  }

  /** Takes up to `limit` queued jobs matching `accept`, in run order (batch companions). */
  takeWhere(accept: (job: J) => boolean, limit: number): J[] {
    const taken: J[] = [];
    for (let i = 0; i < this.#slots.length && taken.length < limit;) {
      const slot = this.#slots[i];
      if (slot && accept(slot.job)) {
        this.#slots.splice(i, 1);
        this.#dispatched(slot);
        taken.push(slot.job);
      } else i++;
    }
    return taken;
  }

  /** Removes a queued job; false if it was not queued. */
  remove(job: J): boolean {
    const at = this.#slots.findIndex((s) => s.job === job);
    if (at < 0) return false;
    this.#slots.splice(at, 1);
    // A cancelled tail must not push the user's next job back: re-derive their newest tag.
    const key = userKey(job);
    const tags = this.#slots.filter((s) => userKey(s.job) === key).map((s) => s.start);
    if (tags.length > 0) this.#last.set(key, Math.max(...tags));
    else this.#last.delete(key);
    return true;
  }

  #dispatched(slot: Slot<J>): void {
    const level = slot.job.priority;
    const round = Math.max(this.#round.get(level) ?? 0, slot.start);
    this.#round.set(level, round);
    // Tags below the round behave exactly like no tag at all: drop them so the map stays small.
    for (const [key, tag] of this.#last) {
      if (tag < round && key.startsWith(`${level}\u0000`)) this.#last.delete(key);
    }
  }
}

function userKey(item: FairItem): string {
  return `${item.priority}\u0000${item.userId}`;
}

function before<J extends FairItem>(a: Slot<J>, b: Slot<J>): boolean {
  if (a.job.priority !== b.job.priority) return a.job.priority > b.job.priority;
  if (a.start !== b.start) return a.start < b.start;
  return a.seq < b.seq;
}
