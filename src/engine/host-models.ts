/**
 * Which packs the inference host has loaded, so each is loaded once, a job on any other says it
 * is warming up, and a restarted host (which has none) gets the preloaded ones again.
 */
import type { InferenceClient } from './inference/client.ts';

export class HostModels {
  /** Packs the host has loaded or is loading (resolves when ready). */
  readonly #loading = new Map<string, Promise<void>>();
  readonly #loaded = new Set<string>();
  readonly #preloaded = new Set<string>();
  #facesWarm = false;

  constructor(
    private readonly host: Pick<InferenceClient, 'call'>,
    /** Also load each preloaded pack's W+ encoder (the default encoder is `identity`). */
    private readonly identityByDefault: boolean,
    private readonly log: (line: string) => void,
  ) {}

  /** Packs the host has loaded. */
  get loaded(): string[] {
    return [...this.#loaded];
  }

  isLoaded(pack: string): boolean {
    return this.#loaded.has(pack);
  }

  /** Has the host load a pack once; a failed load is tried again by the next job. */
  load(pack: string): Promise<void> {
    let loading = this.#loading.get(pack);
    if (!loading) {
      loading = this.host.call('load', { pack }).then(() => void this.#loaded.add(pack));
      loading.catch(() => this.#loading.delete(pack));
      this.#loading.set(pack, loading);
    }
    return loading;
  }

  /** Loads a style (and its encoder) and the face models ahead of the first request. */
  async preload(pack: string): Promise<void> {
    this.#preloaded.add(pack);
    await this.load(pack);
    // The default encoder too, so the first photo does not wait for its gigabyte of weights.
    if (this.identityByDefault) await this.host.call('load', { pack, identity: true });
    if (!this.#facesWarm) {
      await this.host.call('warm-faces', {});
      this.#facesWarm = true;
    }
  }

  /** A restarted host has no models: load the preloaded ones again, before the next job asks. */
  reloaded(): void {
    this.#loading.clear();
    this.#loaded.clear();
    this.#facesWarm = false;
    for (const pack of this.#preloaded) {
      this.preload(pack).catch((error: unknown) =>
        this.log(`could not reload ${pack}: ${String(error)}`),
      );
    }
  }
}
