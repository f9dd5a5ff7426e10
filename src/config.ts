/**
 * Configuration, in rising precedence: `config/default.json`, the JSON file named by
 * `PASTICHE_CONFIG`, then one environment variable per key (`PASTICHE_<SECTION>_<KEY>`, see
 * `.env.example`). A `.env` file in the working directory fills in variables the environment
 * lacks. Secrets come only from the environment: JSON files end up in git, tokens must not.
 */
import { DEVICES, PasticheError } from './engine/index.ts';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { z } from 'zod';

const DEFAULT_FILE = join(import.meta.dirname, '..', 'config', 'default.json');

const count = z.number().int().nonnegative();
const positive = z.number().int().positive();
const host = z.string().regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i, 'expected a host name');

const schema = z.strictObject({
  modelsDir: z.string().min(1),
  models: z.strictObject({
    hubUrl: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }),
    repo: z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'expected "owner/name"'),
    defaultStyle: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'expected a style name ("cartoon")'),
    /** Where `models pull` keeps the official files; null means `<modelsDir>/.downloads`. */
    downloadsDir: z.string().min(1).nullable(),
  }),
  engine: z.strictObject({
    /** `local` runs the models in this process; `queue` sends jobs to `pastiche worker`s. */
    mode: z.enum(['local', 'queue']),
    /** ONNX Runtime threads per operator; 0 means one per core. */
    threads: count,
    /** Execution provider: cpu, cuda, webgpu, dml, coreml, or auto (a GPU if one works, else cpu). */
    device: z.enum(DEVICES),
    memoryBudgetMb: positive,
    maxQueue: positive,
    jobTimeoutS: z.number().positive(),
    maxBatch: positive,
    warmup: z.boolean(),
    /**
     * Show a first look (the generator's 256² RGB) while the full image renders: the pack's
     * generator runs as two halves, about 1.05× the whole graph's time; off runs it whole.
     */
    preview: z.boolean(),
    /** The encoder for requests that name none: `style` (z+) or `identity` (W+). */
    encoder: z.enum(['style', 'identity']),
  }),
  /** BullMQ on Redis, for `engine.mode: queue` (the bot) and `pastiche worker`. */
  queue: z.strictObject({
    /** BullMQ queue name; bot and workers must agree. */
    name: z.string().regex(/^[\w.-]+$/, 'expected letters, digits, ".", "_" or "-"'),
    /** Redis of the queue; null means `cache.url` (queue mode needs a redis:// cache anyway). */
    url: z
      .string()
      .regex(/^rediss?:\/\/.+$/, 'expected redis://…')
      .nullable(),
    /** Jobs one worker runs at once: 1 on a CPU box, more on a GPU. */
    concurrency: positive,
    /** Tries per job (a crash or a stalled worker counts) before the user gets an error. */
    attempts: positive,
    /** A worker that has not renewed a job's lock for this long has stalled (crashed). */
    lockMs: positive,
    /** How often workers look for stalled jobs. */
    stalledIntervalMs: positive,
    /** Largest request (photo bytes, base64) and result (image bytes) carried through Redis. */
    maxRequestBytes: positive,
    maxResultBytes: positive,
  }),
  cache: z.strictObject({
    url: z
      .string()
      .regex(/^(memory|sqlite:\/\/.+|rediss?:\/\/.+)$/, 'expected memory, sqlite://… or redis://…'),
    ttlDays: z.number().positive(),
    /**
     * Starts every key this deployment writes to Redis (cache, job records, limits, the queue),
     * so two deployments can share one Redis without sharing counters or entries.
     */
    keyPrefix: z.string().regex(/^[\w.-]{1,64}$/, 'expected 1–64 letters, digits, ".", "_" or "-"'),
  }),
  privacy: z.strictObject({
    /**
     * How long a sent photo itself is kept (for a whole photo from a crop result without a new
     * upload); 0 never keeps one. A day at most: face codes are what is kept for days.
     */
    keepPhotosMinutes: z.number().min(0).max(1440),
  }),
  photo: z.strictObject({ maxBytes: positive, maxPixels: positive, minSide: positive }),
  /** `maxFaces`: faces stylized at most in a group photo; `pasteMaxSide`: a whole photo's longer side at most. */
  face: z.strictObject({ minSize: positive, maxFaces: positive, pasteMaxSide: positive }),
  limits: z.strictObject({
    perUserRunning: positive,
    perUserQueued: count,
    perUserPerHour: positive,
    perChannelConcurrency: positive,
    globalQueue: positive,
  }),
  playground: z.strictObject({
    enabled: z.boolean(),
    host: z.string().min(1),
    /** 0 picks a free port. */
    port: z.number().int().min(0).max(65535),
    /**
     * Names the page may be reached by besides the bind address (a reverse proxy's host, with
     * `:port` when it is not the default one); any other Host header is refused.
     */
    publicHosts: z.array(z.string().regex(/^[a-z0-9.[\]:-]+$/i, 'expected host or host:port')),
  }),
  discord: z.strictObject({
    /** Hosts attachments may be fetched from; anything else is refused. */
    cdnHosts: z.array(host).min(1),
  }),
  slack: z.strictObject({ socketMode: z.boolean() }),
  logging: z.strictObject({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']),
    /** `json`: one object a line; `plain`: readable lines; `auto`: plain on a terminal. */
    format: z.enum(['auto', 'json', 'plain']),
  }),
  /** `/healthz`, `/readyz`, `/metrics` of the bot and of `pastiche worker` (docs/deployment.md). */
  health: z.strictObject({
    enabled: z.boolean(),
    host: z.string().min(1),
    /** 0 picks a free port. */
    port: z.number().int().min(0).max(65535),
  }),
});

/** Environment variables that hold secrets, by their name in {@link Config.secrets}. */
const SECRET_ENV = {
  discordToken: 'DISCORD_TOKEN',
  discordAppId: 'DISCORD_APP_ID',
  slackBotToken: 'SLACK_BOT_TOKEN',
  slackAppToken: 'SLACK_APP_TOKEN',
  slackSigningSecret: 'SLACK_SIGNING_SECRET',
} as const;

export type Secrets = { readonly [K in keyof typeof SECRET_ENV]?: string };

type DeepReadonly<T> = T extends readonly (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;
type Parsed = z.infer<typeof schema>;

/** The validated, frozen configuration. Paths are absolute (resolved against the working dir). */
export type Config = DeepReadonly<
  Omit<Parsed, 'models'> & {
    models: Omit<Parsed['models'], 'downloadsDir'> & { downloadsDir: string };
    /** Not enumerable, so logging or serialising the config never prints a token. */
    secrets: Secrets;
  }
>;

/** One bad setting: the dotted key, where its value came from, and what is wrong. */
export interface ConfigIssue {
  key: string;
  source: string;
  message: string;
}

/** The configuration cannot be used; `issues` lists every bad key, not just the first. */
export class ConfigError extends PasticheError {
  override readonly name = 'ConfigError';
  readonly code = 'bad-config';
  constructor(readonly issues: readonly ConfigIssue[]) {
    const lines = issues.map((i) => `  - ${i.key} (from ${i.source}): ${i.message}`);
    super(`invalid configuration:\n${lines.join('\n')}`);
  }
}

type Kind = 'string' | 'number' | 'boolean' | 'list';
type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** A configurable key and the environment variable that overrides it. */
export interface ConfigVariable {
  readonly key: string;
  readonly env: string;
  readonly kind: Kind;
}

function envName(path: string[]): string {
  return `PASTICHE_${path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_')}`;
}

function leaves(shape: Record<string, z.ZodType>, prefix: string[] = []): ConfigVariable[] {
  return Object.entries(shape).flatMap(([name, type]): ConfigVariable[] => {
    const path = [...prefix, name];
    const inner = type instanceof z.ZodNullable ? (type.unwrap() as z.ZodType) : type;
    if (inner instanceof z.ZodObject) return leaves(inner.shape as Record<string, z.ZodType>, path);
    const kind: Kind =
      inner instanceof z.ZodNumber
        ? 'number'
        : inner instanceof z.ZodBoolean
          ? 'boolean'
          : inner instanceof z.ZodArray
            ? 'list'
            : 'string';
    return [{ key: path.join('.'), env: envName(path), kind }];
  });
}

/** Every key with its environment variable, e.g. `playground.port` ← `PASTICHE_PLAYGROUND_PORT`. */
export const CONFIG_VARIABLES: readonly ConfigVariable[] = Object.freeze(leaves(schema.shape));

/** Names of the environment that are not settings but steer loading. */
const CONFIG_FILE_ENV = 'PASTICHE_CONFIG';
/** Hosting platforms set `REDIS_URL`; it stands in for `PASTICHE_CACHE_URL` when that is unset. */
const REDIS_ALIAS = 'REDIS_URL';

const BOOLEANS: Record<string, boolean> = { true: true, '1': true, yes: true, on: true };
for (const word of ['false', '0', 'no', 'off']) BOOLEANS[word] = false;

function coerce(kind: Kind, raw: string): Json | Error {
  const text = raw.trim();
  if (kind === 'number') {
    const n = Number(text);
    return Number.isFinite(n) ? n : new Error(`expected a number, got "${raw}"`);
  }
  if (kind === 'boolean') {
    return BOOLEANS[text.toLowerCase()] ?? new Error(`expected true or false, got "${raw}"`);
  }
  if (kind === 'list') return text.split(',').flatMap((s) => (s.trim() ? [s.trim()] : []));
  return text;
}

function readJson(file: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError([{ key: '(file)', source: file, message: (error as Error).message }]);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError([{ key: '(file)', source: file, message: 'expected a JSON object' }]);
  }
  return value as JsonObject;
}

const squash = (s: string): string => s.replace(/[^a-z0-9]/gi, '').toLowerCase();
const SECRET_WORD = /token|secret|password|apikey|appid/;

/** Removes secret-looking keys from a JSON file's settings, with one issue for each. */
function stripSecrets(json: JsonObject, file: string, path: string[] = []): ConfigIssue[] {
  return Object.entries(json).flatMap(([name, value]): ConfigIssue[] => {
    const keyPath = [...path, name];
    if (SECRET_WORD.test(squash(name))) {
      delete json[name];
      const env = Object.values(SECRET_ENV).find((e) => squash(e) === squash(keyPath.join('')));
      const where = env ? `set ${env} in the environment or .env` : 'use the environment';
      return [
        {
          key: keyPath.join('.'),
          source: file,
          message: `secrets are never read from JSON files: ${where}, and remove this key`,
        },
      ];
    }
    return isObject(value) ? stripSecrets(value, file, keyPath) : [];
  });
}

const isObject = (v: Json | undefined): v is JsonObject =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Later layers win; arrays and scalars replace, objects merge. Records each leaf's source. */
function merge(
  base: JsonObject,
  over: JsonObject,
  source: string,
  sources: Map<string, string>,
  path = '',
): void {
  for (const [name, value] of Object.entries(over)) {
    const key = path ? `${path}.${name}` : name;
    const target = base[name];
    if (isObject(value) && isObject(target)) {
      merge(target, value, source, sources, key);
    } else {
      base[name] = value;
      sources.set(key, source);
    }
  }
}

function setAt(json: JsonObject, key: string, value: Json): void {
  const names = key.split('.');
  let node = json;
  for (const name of names.slice(0, -1)) {
    const next = node[name];
    node = isObject(next) ? next : (node[name] = {});
  }
  node[names.at(-1)!] = value;
}

/** One value per variable set; records the variable as the key's source. */
function envOverrides(
  env: NodeJS.ProcessEnv,
  sources: Map<string, string>,
): { overrides: JsonObject; issues: ConfigIssue[] } {
  const overrides: JsonObject = {};
  const issues: ConfigIssue[] = [];
  const known = new Set([CONFIG_FILE_ENV, ...CONFIG_VARIABLES.map((v) => v.env)]);
  for (const name of Object.keys(env).filter((n) => n.startsWith('PASTICHE_') && !known.has(n))) {
    issues.push({ key: name, source: 'environment', message: 'not a setting (see .env.example)' });
  }
  for (const v of CONFIG_VARIABLES) {
    const name = !env[v.env] && v.key === 'cache.url' ? REDIS_ALIAS : v.env;
    const raw = env[name];
    // Blank values count as unset, so a copied .env.example changes nothing.
    if (!raw) continue;
    const value = coerce(v.kind, raw);
    if (value instanceof Error) {
      issues.push({ key: v.key, source: name, message: value.message });
    } else {
      setAt(overrides, v.key, value);
      sources.set(v.key, name);
    }
  }
  return { overrides, issues };
}

function zodIssues(error: z.ZodError, sources: Map<string, string>): ConfigIssue[] {
  const sourceOf = (key: string): string => {
    for (let k = key; k; k = k.slice(0, Math.max(0, k.lastIndexOf('.')))) {
      const source = sources.get(k);
      if (source) return source;
    }
    return 'config/default.json';
  };
  return error.issues.flatMap((issue): ConfigIssue[] => {
    const path = issue.path.filter((p) => typeof p === 'string').join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((name) => {
        const key = path ? `${path}.${name}` : name;
        return { key, source: sourceOf(key), message: 'unknown setting' };
      });
    }
    return [{ key: path || '(root)', source: sourceOf(path), message: issue.message }];
  });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

export interface LoadConfigOptions {
  /** Default `process.env`; never modified (`.env` values are merged into a copy). */
  env?: NodeJS.ProcessEnv;
  /** Where `.env` is read from and relative paths resolve against; default `process.cwd()`. */
  cwd?: string;
}

/**
 * Loads, merges and validates the configuration.
 *
 * @throws {ConfigError} listing every bad key with where its value came from.
 * @example
 * const config = loadConfig();
 * if (config.secrets.discordToken) startDiscord(config);
 * listen(config.playground.port, config.playground.host);
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const cwd = options.cwd ?? process.cwd();
  const dotenvFile = join(cwd, '.env');
  const fromFile = existsSync(dotenvFile) ? parseDotenv(readFileSync(dotenvFile)) : {};
  const env: NodeJS.ProcessEnv = { ...fromFile, ...(options.env ?? process.env) };

  const sources = new Map<string, string>();
  const json = readJson(DEFAULT_FILE);
  const issues: ConfigIssue[] = [];
  const overrideFile = env[CONFIG_FILE_ENV] ? resolve(cwd, env[CONFIG_FILE_ENV]) : undefined;
  if (overrideFile) {
    const override = readJson(overrideFile);
    issues.push(...stripSecrets(override, overrideFile));
    merge(json, override, overrideFile, sources);
  }
  const fromEnv = envOverrides(env, sources);
  issues.push(...fromEnv.issues);
  merge(json, fromEnv.overrides, 'environment', new Map());

  const parsed = schema.safeParse(json);
  if (!parsed.success) issues.push(...zodIssues(parsed.error, sources));
  if (issues.length > 0 || !parsed.success) throw new ConfigError(issues);

  const modelsDir = resolve(cwd, parsed.data.modelsDir);
  const downloadsDir = resolve(
    cwd,
    parsed.data.models.downloadsDir ?? join(modelsDir, '.downloads'),
  );
  const secrets: { -readonly [K in keyof Secrets]: string } = {};
  for (const key of Object.keys(SECRET_ENV) as (keyof Secrets)[]) {
    const value = env[SECRET_ENV[key]]?.trim();
    if (value) secrets[key] = value;
  }
  const config: Config = {
    ...parsed.data,
    modelsDir,
    models: { ...parsed.data.models, downloadsDir },
    secrets,
  };
  Object.defineProperty(config, 'secrets', { enumerable: false });
  Object.freeze(secrets);
  return deepFreeze(config);
}
