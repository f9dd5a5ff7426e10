/**
 * The operator's endpoints, for the bot and for `pastiche worker`: `GET /healthz` (the process
 * answers), `GET /readyz` (it can do its work: 200, or 503 naming the checks that fail) and
 * `GET /metrics` (Prometheus). A separate small server, so it exists whether or not the
 * playground runs, and binds 127.0.0.1 by default: metrics are for a scraper on the same host or
 * network, not for the public.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Metrics } from './metrics.ts';

/** A readiness check: true when this part is ready. Failures count as not ready. */
export type ReadyCheck = () => boolean | Promise<boolean>;

export interface HealthServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  metrics: Metrics;
  /** Named checks for `/readyz` ("packs", "adapters", "redis"). */
  ready: Readonly<Record<string, ReadyCheck>>;
  /** Details `/healthz` adds to `ok` (the engine's state, restarts and queue). */
  state?: () => object;
}

export interface HealthServer {
  readonly url: string;
  close(): Promise<void>;
}

/** `/readyz`'s body: ready when every check passes. The playground's port serves it too. */
export async function readiness(
  checks: Readonly<Record<string, ReadyCheck>>,
): Promise<{ ready: boolean; checks: Record<string, boolean> }> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      try {
        return [name, await check()] as const;
      } catch {
        return [name, false] as const;
      }
    }),
  );
  const results = Object.fromEntries(entries);
  return { ready: Object.values(results).every(Boolean), checks: results };
}

/** `/healthz`'s body: the process answers, and what `state` adds (the engine's state). */
export function liveness(state?: () => object): object {
  return { ok: true, ...state?.() };
}

export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(405, { error: 'GET only' });
    if (path === '/healthz') return json(200, liveness(options.state));
    if (path === '/readyz') {
      void readiness(options.ready).then((body) => json(body.ready ? 200 : 503, body));
      return;
    }
    if (path === '/metrics') {
      options.metrics.render().then(
        ({ body, contentType }) => res.writeHead(200, { 'content-type': contentType }).end(body),
        () => json(500, { error: 'metrics unavailable' }),
      );
      return;
    }
    json(404, { error: 'not found' });
  });
  // A scraper that keeps its connection open must not hold up shutdown.
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
