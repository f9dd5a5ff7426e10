/**
 * Server-Sent Events per session: every open tab of a session gets the session's events. Events
 * sent while no tab listens (a POST that beat the page's EventSource, a reconnect) wait in a
 * short backlog, so a reply is never lost to that race. Backlogs of sessions that never listen
 * are evicted (by age and by count), and open streams are capped, so neither grows without bound.
 */
import type { ServerResponse } from 'node:http';
import type { WireEvent } from './wire.ts';

const BACKLOG = 100;
/** Proxies and browsers drop idle streams; a comment line every so often keeps them open. */
const KEEPALIVE_MS = 15_000;

export interface EventLimits {
  /** Sessions whose events may wait for a listener at once; the oldest backlog goes first. */
  backlogSessions: number;
  /** A backlog nobody collected within this long is dropped (the page listens within seconds). */
  backlogMs: number;
  /** Open streams of one session (its tabs) and of everyone together. */
  streamsPerSession: number;
  streams: number;
}

export const DEFAULT_EVENT_LIMITS: EventLimits = {
  backlogSessions: 1000,
  backlogMs: 60_000,
  streamsPerSession: 16,
  streams: 512,
};

interface Backlog {
  frames: string[];
  since: number;
}

export class EventHub {
  readonly #streams = new Map<string, Set<ServerResponse>>();
  /** In insertion order, so the first entry is the oldest backlog. */
  readonly #backlog = new Map<string, Backlog>();
  readonly #keepalive = setInterval(() => this.#tick(), KEEPALIVE_MS);
  #open = 0;

  constructor(
    private readonly limits: EventLimits = DEFAULT_EVENT_LIMITS,
    /** Called on each keepalive for every session with an open stream: it is in use. */
    private readonly onAlive: (session: string) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {
    this.#keepalive.unref();
  }

  /** Sessions with events waiting for a listener. */
  get backlogged(): number {
    return this.#backlog.size;
  }

  /** Whether one more stream may open for `session` (checked before the response is used). */
  canOpen(session: string): boolean {
    const mine = this.#streams.get(session)?.size ?? 0;
    return mine < this.limits.streamsPerSession && this.#open < this.limits.streams;
  }

  /** Turns `res` into an event stream for `session` and flushes what waited for it. */
  open(session: string, res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    res.write(': connected\n\n');
    const streams = this.#streams.get(session) ?? new Set();
    streams.add(res);
    this.#open++;
    this.#streams.set(session, streams);
    for (const frame of this.#backlog.get(session)?.frames ?? []) res.write(frame);
    this.#backlog.delete(session);
    res.on('close', () => {
      if (streams.delete(res)) this.#open--;
      if (streams.size === 0 && this.#streams.get(session) === streams)
        this.#streams.delete(session);
    });
  }

  send(session: string, event: WireEvent): void {
    const frame = `event: reply\ndata: ${JSON.stringify(event)}\n\n`;
    // A tab that just went away may not have been noticed yet; its stream counts as closed.
    const live = [...(this.#streams.get(session) ?? [])].filter((res) => !res.destroyed);
    if (live.length > 0) {
      for (const res of live) res.write(frame);
      return;
    }
    const waiting = this.#backlog.get(session) ?? { frames: [], since: this.now() };
    waiting.frames.push(frame);
    if (waiting.frames.length > BACKLOG) waiting.frames.splice(0, waiting.frames.length - BACKLOG);
    this.#backlog.set(session, waiting);
    while (this.#backlog.size > this.limits.backlogSessions) {
      const oldest = this.#backlog.keys().next().value;
      if (oldest === undefined) break;
      this.#backlog.delete(oldest);
    }
  }

  /** Drops what waits for a session that no longer exists. */
  forget(session: string): void {
    this.#backlog.delete(session);
  }

  /** Ends every stream (the page's EventSource would reconnect to a server that is gone). */
  close(): void {
    clearInterval(this.#keepalive);
    for (const streams of this.#streams.values()) for (const res of streams) res.end();
    this.#streams.clear();
    this.#backlog.clear();
  }

  /** Keepalive frames, sessions with streams marked alive, stale backlogs dropped. */
  #tick(): void {
    for (const [session, streams] of this.#streams) {
      this.onAlive(session);
      for (const res of streams) res.write(': keepalive\n\n');
    }
    this.sweep();
  }

  /** Drops backlogs older than `backlogMs`. */
  sweep(): void {
    const cutoff = this.now() - this.limits.backlogMs;
    for (const [session, backlog] of this.#backlog) {
      if (backlog.since <= cutoff) this.#backlog.delete(session);
    }
  }
}
