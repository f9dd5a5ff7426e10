/**
 * The main process's side of the inference host: forks it, sends typed calls with request ids,
 * forwards cancellation, and restarts it with capped backoff when it dies. The main thread only
 * moves messages, so it keeps answering chat platforms while the host computes.
 *
 * A child process rather than a worker_thread: a native abort, an out-of-memory kill or a
 * SIGKILL of a worker thread takes the whole process (and the bot) with it; of a child, only
 * the child.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import { UserError } from '../errors.ts';
import {
  fromWire,
  type FromHost,
  type HostConfig,
  type HostOp,
  type HostProgress,
  type HostOps,
  type ToHost,
} from './protocol.ts';

/** `idle`: not started yet; the first call (usually a preload) starts it. */
export type HostState = 'idle' | 'starting' | 'ready' | 'restarting' | 'closed';

/** What `engine.health()` reports about the host. */
export interface HostHealth {
  state: HostState;
  /** The host's process id while it runs. */
  pid?: number;
  /** Times the host died and was started again. */
  restarts: number;
  lastCrash?: { at: string; reason: string };
  /** The host's peak resident memory (bytes) as of its latest answer; its models live there. */
  peakRssBytes?: number;
}

export interface ClientOptions {
  config: HostConfig;
  /** Crash and restart lines; default `console.error`. */
  log?: (line: string) => void;
  /** Called each time a restarted host is ready (to load its packs again). */
  onRestart?: () => void;
  /** First restart delay; doubles per crash in a row up to {@link maxBackoffMs}. Default 500 ms. */
  backoffMs?: number;
  /** Default 30 s. */
  maxBackoffMs?: number;
}

interface Call {
  op: HostOp;
  message: Extract<ToHost, { type: 'call' }>;
  resolve(value: unknown): void;
  reject(error: Error): void;
  onProgress: ((progress: HostProgress) => void) | undefined;
  sent: boolean;
}

const HOST = fileURLToPath(new URL('./host.ts', import.meta.url));
// Absolute, so the host starts whatever the working directory is.
const TSX = import.meta.resolve('tsx');
/** Added to the host's niceness (Unix nice: 0 normal, 19 lowest). */
const HOST_NICENESS = 5;
/** How long `close` lets the host release its models before it is killed. */
const CLOSE_LIMIT_MS = 5000;

export class InferenceClient {
  readonly #options: ClientOptions;
  readonly #log: (line: string) => void;
  readonly #calls = new Map<number, Call>();
  #nextId = 1;
  #child: ChildProcess | undefined;
  #state: HostState = 'idle';
  #restarts = 0;
  /** Crashes since the last call that succeeded: sets the backoff. */
  #crashesInRow = 0;
  #lastCrash: HostHealth['lastCrash'];
  #timer: NodeJS.Timeout | undefined;
  #exited: Promise<void> = Promise.resolve();
  /** Of the host now running (a restarted one starts from nothing). */
  #peakRssBytes: number | undefined;

  constructor(options: ClientOptions) {
    this.#options = options;
    this.#log = options.log ?? ((line) => console.error(line));
  }

  health(): HostHealth {
    return {
      state: this.#state,
      ...(this.#child?.pid !== undefined &&
        this.#state !== 'restarting' && { pid: this.#child.pid }),
      restarts: this.#restarts,
      ...(this.#lastCrash && { lastCrash: { ...this.#lastCrash } }),
      ...(this.#peakRssBytes !== undefined && { peakRssBytes: this.#peakRssBytes }),
    };
  }

  /**
   * Runs `op` in the host. Waits for the host to be ready (starting or restarting). Rejects with
   * `UserError('engine-restarted')` if the host dies while the call runs, and with the host's
   * own error otherwise. Aborting `signal` asks the host to stop at its next stage boundary.
   * `onProgress` hears what the call reports before its result (a generator's preview).
   */
  call<O extends HostOp>(
    op: O,
    args: HostOps[O]['args'],
    signal?: AbortSignal,
    onProgress?: (progress: HostProgress) => void,
  ): Promise<HostOps[O]['result']> {
    if (this.#state === 'closed')
      return Promise.reject(new UserError('cancelled', 'engine closed'));
    if (signal?.aborted) return Promise.reject(new UserError('cancelled'));
    // Started on first use, so a process that never computes (a `pastiche worker` waiting for
    // its first job) starts as fast as before.
    if (this.#state === 'idle') {
      this.#state = 'starting';
      this.#spawn();
    }
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const call: Call = {
        op,
        message: { type: 'call', id, op, args },
        resolve: resolve as (value: unknown) => void,
        reject,
        onProgress,
        sent: false,
      };
      this.#calls.set(id, call);
      signal?.addEventListener(
        'abort',
        () => {
          if (!this.#calls.has(id)) return;
          if (call.sent) return this.#send({ type: 'cancel', id });
          this.#calls.delete(id);
          reject(new UserError('cancelled'));
        },
        { once: true },
      );
      if (this.#state === 'ready') this.#dispatch(call);
    });
  }

  /** Asks the host to release its models and exit; kills it if it takes too long. */
  async close(): Promise<void> {
    if (this.#state === 'closed') return this.#exited;
    const wasRunning = this.#state !== 'restarting' && this.#state !== 'idle';
    const wasReady = this.#state === 'ready';
    this.#state = 'closed';
    clearTimeout(this.#timer);
    for (const [id, call] of this.#calls) {
      this.#calls.delete(id);
      call.reject(new UserError('cancelled', 'engine closed'));
    }
    const child = this.#child;
    if (!child || !wasRunning) return this.#exited;
    const kill = setTimeout(() => child.kill('SIGKILL'), CLOSE_LIMIT_MS);
    // A host still starting has no models to release (and may not be listening yet).
    if (wasReady && child.connected) this.#send({ type: 'close' });
    else child.kill('SIGTERM');
    await this.#exited;
    clearTimeout(kill);
  }

  #spawn(): void {
    const child = fork(HOST, [JSON.stringify(this.#options.config)], {
      serialization: 'advanced',
      // Not the parent's flags (e.g. `--test`): only what running TypeScript needs.
      execArgv: ['--import', TSX],
      // glibc makes a malloc arena per thread that allocates (ONNX Runtime's, libuv's, sharp's),
      // each holding freed memory; with two the host peaked 34 MB lower (README, Benchmarks).
      env: { ...process.env, MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.#child = child;
    // ONNX Runtime keeps every core busy; a lower priority for the host lets the main process,
    // which needs little CPU but needs it at once, answer platforms between the host's slices.
    if (child.pid !== undefined) {
      try {
        setPriority(child.pid, HOST_NICENESS);
      } catch {
        // Not permitted here (some containers): the host runs at the same priority.
      }
    }
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        resolve();
        this.#onExit(child, signal ?? `code ${code}`);
      });
    });
    // A failed fork (e.g. out of processes) also ends in 'exit'; this only keeps it from throwing.
    child.on('error', (error) => this.#log(`inference host: ${error.message}`));
    child.on('message', (message: FromHost) => this.#onMessage(message));
  }

  #onMessage(message: FromHost): void {
    if (message.type === 'ready') {
      if (this.#state === 'closed') return;
      const restarted = this.#restarts > 0;
      this.#state = 'ready';
      if (restarted) this.#log(`inference host ready again (restart ${this.#restarts})`);
      for (const call of this.#calls.values()) if (!call.sent) this.#dispatch(call);
      if (restarted) this.#options.onRestart?.();
      return;
    }
    const call = this.#calls.get(message.id);
    if (!call) return;
    if (message.type === 'progress') {
      call.onProgress?.(message.progress);
      return;
    }
    this.#peakRssBytes = message.maxRssBytes;
    this.#calls.delete(message.id);
    if (message.type === 'result') {
      this.#crashesInRow = 0;
      call.resolve(message.value);
    } else {
      call.reject(fromWire(message.error));
    }
  }

  #onExit(child: ChildProcess, reason: string): void {
    if (this.#state === 'closed' || child !== this.#child) return;
    this.#restarts++;
    this.#crashesInRow++;
    this.#peakRssBytes = undefined;
    this.#lastCrash = { at: new Date().toISOString(), reason };
    // The calls it was running are lost; calls not yet sent wait for the next host.
    let lost = 0;
    for (const [id, call] of this.#calls) {
      if (!call.sent) continue;
      this.#calls.delete(id);
      lost++;
      call.reject(new UserError('engine-restarted', `inference host exited (${reason})`));
    }
    const base = this.#options.backoffMs ?? 500;
    const delay = Math.min(
      base * 2 ** (this.#crashesInRow - 1),
      this.#options.maxBackoffMs ?? 30_000,
    );
    this.#state = 'restarting';
    this.#log(
      `inference host exited (${reason}) with ${lost} call(s) running; restarting in ${delay} ms`,
    );
    this.#timer = setTimeout(() => {
      if (this.#state !== 'restarting') return;
      this.#state = 'starting';
      this.#spawn();
    }, delay);
  }

  #dispatch(call: Call): void {
    call.sent = true;
    this.#send(call.message);
  }

  #send(message: ToHost): void {
    const child = this.#child;
    if (!child?.connected) return;
    // A write error means the host is going away; its 'exit' settles the calls.
    child.send(message, (error) => {
      if (error) this.#log(`inference host: send failed: ${error.message}`);
    });
  }
}
