/**
 * `npm run bench:soak`: a bounded soak of the whole command path on one engine. SOAK_USERS
 * (default 6) users each send commands one after another, SOAK_JOBS (default 300) in all, on the
 * demo pack (SOAK_SIZE, default 256): photo stylizes, re-rolls, cancels of a running job, forgets
 * and bad photos (not an image, no face). Checks that every image command got exactly one final
 * reply (a result or an error) and that it came last, and reports RSS (this process and the
 * inference host) and open handles after warm-up and at the end.
 *
 * About 10 minutes on demo-256 with the defaults on a 2-core box; SOAK_JOBS=60 for a short run.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createEngine } from '../src/app.ts';
import { createCommands } from '../src/commands/index.ts';
import type { Caller, Reply } from '../src/commands/types.ts';
import { loadConfig } from '../src/config.ts';
import type { DemoSize } from '../src/engine/pack/demo-packs.ts';
import { writeDemoPacks } from '../src/engine/pack/demo-packs.ts';

/** 64, 256 or 1024: the sizes demo packs come in. */
function demoSize(text: string): DemoSize {
  const size = Number(text);
  if (size !== 64 && size !== 256 && size !== 1024)
    throw new RangeError(`no demo pack of ${text} px`);
  return size;
}

const SIZE = demoSize(process.env.SOAK_SIZE ?? '256');
const JOBS = Number(process.env.SOAK_JOBS ?? 300);
const USERS = Number(process.env.SOAK_USERS ?? 6);
const PACKS = resolve(join(import.meta.dirname, '.packs', String(SIZE)));
const FIXTURES = join(import.meta.dirname, '..', 'test', 'fixtures', 'alignment');
const photo = (name: string) => new Uint8Array(readFileSync(join(FIXTURES, name)));
const FACES = ['astronaut.png', 'yRpe13BHdKw.jpg', 'i5R8hbZFDdc.jpg'].map(photo);
const BAD = [photo('no_face_cat.png'), new TextEncoder().encode('not a photo at all\n'.repeat(20))];

type Kind = 'stylize' | 'reroll' | 'cancel' | 'forget' | 'bad';
/** Out of every 10 commands of a user. */
const MIX: readonly Kind[] = [
  'stylize',
  'reroll',
  'stylize',
  'cancel',
  'reroll',
  'stylize',
  'bad',
  'reroll',
  'forget',
  'stylize',
];

/** Current resident memory of a process, from /proc (Linux). */
function rssMb(pid: number | 'self'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
}

if (!existsSync(join(PACKS, `demo-${SIZE}`))) {
  console.log(`building the demo-${SIZE} pack in ${PACKS} …`);
  await writeDemoPacks(PACKS, SIZE);
}
const dir = mkdtempSync(join(tmpdir(), 'pastiche-soak-'));
const config = loadConfig({
  cwd: dir,
  env: {
    PASTICHE_MODELS_DIR: PACKS,
    PASTICHE_MODELS_DEFAULT_STYLE: `demo-${SIZE}`,
    PASTICHE_CACHE_URL: `sqlite://${join(dir, 'cache.sqlite')}`,
    PASTICHE_LIMITS_PER_USER_PER_HOUR: String(JOBS * 2),
  },
});
const errors: string[] = [];
const engine = await createEngine(config, (line) => errors.push(line));
const commands = await createCommands({ engine, config, onError: (e) => errors.push(String(e)) });
await engine.preload(`demo-${SIZE}`);

const tally = new Map<string, number>();
const violations: string[] = [];
const count = (what: string) => tally.set(what, (tally.get(what) ?? 0) + 1);

/** One command; checks its replies end with exactly one final reply. */
async function command(caller: Caller, kind: Kind, i: number, lastJob: string | undefined) {
  const replies: Reply[] = [];
  const sink = (reply: Reply) => void replies.push(reply);
  const face = FACES[i % FACES.length]!;
  switch (kind) {
    case 'stylize':
      await commands.stylize(caller, { photo: face }, sink);
      break;
    case 'reroll':
      if (lastJob) await commands.reroll(caller, { jobId: lastJob, mode: 'exemplar' }, sink);
      else await commands.stylize(caller, { photo: face }, sink);
      break;
    case 'bad':
      await commands.stylize(caller, { photo: BAD[i % BAD.length]! }, sink);
      break;
    case 'forget':
      await commands.forget(caller, sink);
      break;
    case 'cancel': {
      // Cancelled by its author as soon as it reports anything (queued or a stage).
      let cancelling: Promise<void> | undefined;
      await commands.stylize(caller, { photo: face }, (reply) => {
        replies.push(reply);
        if (reply.kind === 'status' && !cancelling) {
          cancelling = commands.cancel(caller, { jobId: reply.jobId }, () => undefined);
        }
      });
      await cancelling;
      break;
    }
  }
  const finals = replies.filter((r) => r.kind !== 'status');
  if (finals.length !== 1 || replies.at(-1) !== finals[0]) {
    violations.push(`${kind}: ${replies.map((r) => r.kind).join(',')}`);
  }
  const end = finals[0];
  count(`${kind} → ${end?.kind === 'error' ? `error ${end.code}` : end?.kind}`);
  return end?.kind === 'result' ? end.jobId : lastJob;
}

async function user(u: number, commandsEach: number, offset: number): Promise<void> {
  const caller: Caller = { userId: `soak${u}`, platform: 'playground', channelId: `room${u}` };
  let lastJob: string | undefined;
  for (let k = 0; k < commandsEach; k++) {
    const i = offset + k;
    lastJob = await command(caller, MIX[(i + u) % MIX.length]!, i, lastJob);
    if (MIX[(i + u) % MIX.length] === 'forget') lastJob = undefined;
  }
}

const snapshot = () => {
  const pid = engine.health().pid;
  return {
    main: rssMb('self'),
    host: pid ? rssMb(pid) : NaN,
    handles: process.getActiveResourcesInfo().length,
  };
};

// Warm-up: one round of every kind per user, so caches, arenas and pools reach their size.
const warmEach = MIX.length;
await Promise.all(Array.from({ length: USERS }, (_, u) => user(u, warmEach, 0)));
const before = snapshot();
const start = performance.now();
const each = Math.ceil(JOBS / USERS);
await Promise.all(Array.from({ length: USERS }, (_, u) => user(u, each, warmEach)));
const seconds = (performance.now() - start) / 1000;
const after = snapshot();
const health = engine.health();
await commands.close();
await engine.close();
rmSync(dir, { recursive: true, force: true });

const growth = (a: number, b: number) => `${(((b - a) / a) * 100).toFixed(1)}%`;
console.log(
  `\nsoak: demo-${SIZE}, ${USERS} users × ${each} commands (+${warmEach} each to warm up), ${seconds.toFixed(0)} s`,
);
console.log(`${process.env.SOAK_NOTE ?? ''}\n`);
console.log('| after warm-up → end | main RSS MB | host RSS MB | open handles |');
console.log('|---|---|---|---|');
console.log(
  `| ${before.main.toFixed(0)} → ${after.main.toFixed(0)} | ${before.host.toFixed(0)} → ${after.host.toFixed(0)} | ${before.handles} → ${after.handles} |`,
);
console.log(
  `| growth | ${growth(before.main, after.main)} | ${growth(before.host, after.host)} | ${after.handles - before.handles} |`,
);
console.log('\noutcomes:');
for (const [what, n] of [...tally].sort()) console.log(`  ${what}: ${n}`);
console.log(
  `every command had exactly one final reply, last: ${violations.length === 0 ? 'yes' : `NO (${violations.length}): ${violations.slice(0, 5).join(' | ')}`}`,
);
console.log(`engine health: ${JSON.stringify(health)}`);
if (errors.length > 0)
  console.log(`unexpected errors (${errors.length}): ${errors.slice(0, 3).join(' | ')}`);
if (violations.length > 0) process.exitCode = 1;
