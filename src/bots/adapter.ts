/**
 * The contract every chat front end (playground, Discord, Slack) implements, so the composition
 * root starts, watches and stops them all the same way. An adapter is thin: it turns platform
 * events into calls on {@link Commands} and their replies into platform messages.
 *
 * Adding a front end: export an {@link AdapterSpec} from its `index.ts` and list it in `app.ts`.
 */
import type { Commands } from '../commands/index.ts';
import type { Config } from '../config.ts';
import type { EngineHealth } from '../engine/index.ts';
import type { Logger } from '../log.ts';

/** A started front end. */
export interface Adapter {
  /** `playground`, `discord`, `slack`: the startup log and `/readyz` name it. */
  readonly name: string;
  /** Where users find it, printed at startup (the playground's page). */
  readonly url?: string;
  /** Connected and taking commands (for `/readyz`). */
  ready(): boolean;
  /** Stops taking commands (new ones hear "restarting" or "busy"); the ones running go on. */
  stop(): Promise<void>;
  /** Delivers what the finished commands said, then disconnects. */
  close(): Promise<void>;
}

/** What the composition root hands every adapter. */
export interface AdapterContext {
  config: Config;
  commands: Commands;
  /** The demo pack's warning, for front ends that show a banner. */
  notice: string | undefined;
  /** The style a front end offers first. */
  defaultPack: string | undefined;
  log: (line: string) => void;
  logger: Logger;
  /** The engine's state, where a front end shows it (the playground's `/healthz`). */
  health: (() => EngineHealth) | undefined;
  /** Every check of the process's `/readyz`, where a front end serves it too. */
  ready: () => Promise<{ ready: boolean; checks: Record<string, boolean> }>;
}

/** A front end the composition root may start. */
export interface AdapterSpec {
  readonly name: string;
  /** Whether the configuration turns it on (the playground's switch, a platform's token). */
  enabled(config: Config): boolean;
  /** Resolves once connected; rejects when it cannot start (a bad token, a taken port). */
  start(ctx: AdapterContext): Promise<Adapter>;
}
