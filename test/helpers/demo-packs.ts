/**
 * Demo packs built once per test run and copied into each test's models folder. Building the
 * 64 px set takes 0.2 to 0.6 s and a run asked for it some 30 times; copying it takes about
 * 20 ms. Test files run in separate processes, so the cache lives in the system's
 * temporary folder, keyed by size, options and a hash of the sources that write packs: a change
 * to src/engine (or to the locked dependencies) builds them again rather than testing old packs.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { writeDemoPacks, type DemoPackOptions } from '../../src/engine/pack/demo-packs.ts';
import type { DemoSize } from '../../src/engine/pack/demo-packs.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CACHE = join(tmpdir(), 'pastiche-test-demo-packs');

let sourceHash: string | undefined;

/** sha256 over every file under src/engine and package-lock.json, path and content. */
function sources(): string {
  if (sourceHash) return sourceHash;
  const hash = createHash('sha256');
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    )) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else hash.update(relative(ROOT, path)).update('\0').update(readFileSync(path)).update('\0');
    }
  };
  walk(join(ROOT, 'src', 'engine'));
  hash.update(readFileSync(join(ROOT, 'package-lock.json')));
  sourceHash = hash.digest('hex').slice(0, 16);
  return sourceHash;
}

/**
 * Removes cached sets untouched for a day: each change to src/engine leaves one behind. Not
 * younger ones, which a test run of another checkout may be copying from.
 */
function prune(): void {
  const dayAgo = Date.now() - 24 * 3600 * 1000;
  for (const name of readdirSync(CACHE)) {
    const path = join(CACHE, name);
    if (statSync(path).mtimeMs < dayAgo) rmSync(path, { recursive: true, force: true });
  }
}

/** The cached folder of packs for `size` and `options`, built by the first caller of a run. */
async function cached(size: DemoSize, options: DemoPackOptions): Promise<string> {
  const wPlus = options.wPlus ?? size < 1024;
  const key = `${size}-seed${options.seed ?? 0}-wplus${wPlus ? 1 : 0}-${sources()}`;
  const dir = join(CACHE, key);
  if (existsSync(dir)) {
    const now = new Date();
    utimesSync(dir, now, now); // in use: see prune
    return dir;
  }
  mkdirSync(CACHE, { recursive: true });
  // Built aside and renamed into place: another test file may be building the same key.
  const building = join(CACHE, `.${key}.${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await writeDemoPacks(building, size, options);
    renameSync(building, dir);
    prune();
  } catch (error) {
    if (!existsSync(dir)) throw error;
  } finally {
    rmSync(building, { recursive: true, force: true });
  }
  return dir;
}

/**
 * Installs the demo packs (as `writeDemoPacks(models, size, options)` would) into `models` and
 * returns it. Each pack is copied aside and renamed into place, replacing one already there, as
 * the pack writer does, so a test may change or damage its copy freely.
 */
export async function installDemoPacks(
  models: string,
  size: DemoSize = 64,
  options: DemoPackOptions = {},
): Promise<string> {
  const from = await cached(size, options);
  mkdirSync(models, { recursive: true });
  for (const pack of readdirSync(from)) {
    const target = join(models, pack);
    const copy = join(models, `.${pack}.copy-${randomBytes(4).toString('hex')}`);
    cpSync(join(from, pack), copy, { recursive: true });
    if (existsSync(target)) {
      const old = `${copy}.old`;
      renameSync(target, old);
      renameSync(copy, target);
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(copy, target);
    }
  }
  return models;
}
