/**
 * Prometheus metrics (prom-client), one registry per process: the bot (`pastiche start`) and each
 * `pastiche worker` serve theirs on `/metrics` (see `health-server.ts` and docs/deployment.md).
 * Counters are fed where jobs end (the command layer's `runJob`, the queue worker); gauges read
 * `engine.health()` when scraped, so nothing polls.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { type EngineHealth, PasticheError, type StylizeResult } from './engine/index.ts';

/** Seconds; a stage runs from a few ms (a cache hit) to tens of seconds (a 1024 px CPU generate). */
const STAGE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** What the command layer and the queue worker count; {@link Metrics} is the real one. */
export interface JobMetrics {
  /** A job ended: its result, or the error it failed with. */
  job(outcome: { result: StylizeResult } | { error: unknown }): void;
  /**
   * A request turned away by a limit or a full queue, wherever that happened (the adapter's
   * check, the admission, the engine's queue), by code: never a job, so never in `job`.
   */
  refused(code: string): void;
  /** `commands.check` said no (any reason: a limit, no photo, an unknown job…), by code. */
  checked(code: string): void;
}

export class Metrics implements JobMetrics {
  readonly registry = new Registry();
  readonly #jobs: Counter<'outcome'>;
  readonly #stages: Histogram<'stage'>;
  readonly #cache: Counter<'result'>;
  readonly #refusals: Counter<'code'>;
  readonly #checks: Counter<'code'>;

  /** `health` is read at each scrape: queue depth and inference-host restarts. */
  constructor(health?: () => EngineHealth) {
    const registers = [this.registry];
    // process_*, nodejs_* including nodejs_eventloop_lag_* (event-loop delay).
    collectDefaultMetrics({ register: this.registry });
    this.#jobs = new Counter({
      name: 'pastiche_jobs_total',
      help: 'Finished style jobs by outcome: ok, or the error code (no-face, cancelled, timeout, internal…)',
      labelNames: ['outcome'],
      registers,
    });
    this.#stages = new Histogram({
      name: 'pastiche_stage_duration_seconds',
      help: 'Time per engine stage of a finished job (decode, detect, align, encode, generate…)',
      labelNames: ['stage'],
      buckets: STAGE_BUCKETS,
      registers,
    });
    this.#cache = new Counter({
      name: 'pastiche_content_cache_total',
      help: "Photo jobs by whether the photo's content code came from the cache (hit) or the encoder (miss)",
      labelNames: ['result'],
      registers,
    });
    this.#refusals = new Counter({
      name: 'pastiche_limit_refusals_total',
      help: 'Requests refused by a limit or a full queue, by code (user-busy, channel-busy, rate-limited, queue-full, busy)',
      labelNames: ['code'],
      registers,
    });
    this.#checks = new Counter({
      name: 'pastiche_check_refusals_total',
      help: "Commands an adapter's check refused before acknowledging, by code (limits included)",
      labelNames: ['code'],
      registers,
    });
    if (!health) return;
    new Gauge({
      name: 'pastiche_queue_depth',
      help: 'Engine jobs waiting (state=queued) and running (state=running)',
      labelNames: ['state'],
      registers,
      collect() {
        const { jobs } = health();
        this.set({ state: 'queued' }, jobs.queued);
        this.set({ state: 'running' }, jobs.running);
      },
    });
    new Gauge({
      name: 'pastiche_inference_host_restarts',
      help: 'Times the inference host (the child process running the models) died and was restarted',
      registers,
      collect() {
        this.set(health().restarts);
      },
    });
  }

  /** A job ended: its result, or the error it failed with. */
  job(outcome: { result: StylizeResult } | { error: unknown }): void {
    if ('error' in outcome) {
      const { error } = outcome;
      this.#jobs.inc({ outcome: error instanceof PasticheError ? error.code : 'internal' });
      return;
    }
    const { result } = outcome;
    this.#jobs.inc({ outcome: 'ok' });
    for (const [stage, ms] of Object.entries(result.timings)) {
      if (typeof ms === 'number') this.#stages.observe({ stage }, ms / 1000);
    }
    if (result.photoKey) this.#cache.inc({ result: result.cacheHit ? 'hit' : 'miss' });
  }

  /** A request a limit or a full queue turned away (it never became a job). */
  refused(code: string): void {
    this.#refusals.inc({ code });
  }

  /** `commands.check` refused a command before the adapter acknowledged it. */
  checked(code: string): void {
    this.#checks.inc({ code });
  }

  /** The exposition text and its content type, for `GET /metrics`. */
  async render(): Promise<{ body: string; contentType: string }> {
    return { body: await this.registry.metrics(), contentType: this.registry.contentType };
  }
}
