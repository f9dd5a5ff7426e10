/**
 * Server-Sent Events per session: every open tab of a session gets the session's events. Events
 * sent while no tab listens (a POST that beat the page's EventSource, a reconnect) wait in a
 * short backlog, so a reply is never lost to that race.
 */
import type { ServerResponse } from 'node:http';
import type { WireEvent } from './wire.ts';

const BACKLOG = 100;
/** Proxies and browsers drop idle streams; a comment line every so often keeps them open. */
const KEEPALIVE_MS = 15_000;

export class EventHub {
  readonly #streams = new Map<string, Set<ServerResponse>>();
  readonly #backlog = new Map<string, string[]>();
  readonly #keepalive = setInterval(() => this.#broadcast(': keepalive\n\n'), KEEPALIVE_MS);

  constructor() {
    this.#keepalive.unref();
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
    this.#streams.set(session, streams);
    for (const frame of this.#backlog.get(session) ?? []) res.write(frame);
    this.#backlog.delete(session);
    res.on('close', () => {
      streams.delete(res);
      if (streams.size === 0) this.#streams.delete(session);
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
    const waiting = this.#backlog.get(session) ?? [];
    waiting.push(frame);
    this.#backlog.set(session, waiting.slice(-BACKLOG));
  }

  /** Ends every stream (the page's EventSource would reconnect to a server that is gone). */
  close(): void {
    clearInterval(this.#keepalive);
    for (const streams of this.#streams.values()) for (const res of streams) res.end();
    this.#streams.clear();
    this.#backlog.clear();
  }

  #broadcast(frame: string): void {
    for (const streams of this.#streams.values()) for (const res of streams) res.write(frame);
  }
}
