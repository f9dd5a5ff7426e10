/**
 * The status throttle of a command's replies (JobView), on a fake clock: at most one status edit
 * per STATUS_INTERVAL_MS, the latest status wins, and nothing after the final reply. The
 * end-to-end tests (stylize.test.ts) show the edits reach Discord; here their spacing is counted
 * without waiting on real time.
 */
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { test, type TestContext } from 'node:test';
import { STATUS_INTERVAL_MS, JobView } from '../../src/bots/discord/view.ts';
import type { Outgoing } from '../../src/bots/discord/render.ts';
import type { Surface } from '../../src/bots/discord/surface.ts';
import type { Stage } from '../../src/commands/types.ts';

/** A surface that records what was shown, and when (on the fake clock). */
function recorder(): Surface & { shown: { at: number; content: string }[] } {
  const shown: { at: number; content: string }[] = [];
  return {
    shown,
    uploadLimit: 8 << 20,
    async show(message: Outgoing) {
      shown.push({ at: Date.now(), content: message.content });
      return 'm1';
    },
    async add(message: Outgoing) {
      shown.push({ at: Date.now(), content: message.content });
      return 'm2';
    },
    async fail(text: string) {
      shown.push({ at: Date.now(), content: `fail: ${text}` });
    },
  };
}

const status = (stage: Stage, text: string) =>
  ({ kind: 'status', jobId: 'j1', stage, text }) as const;

/** Moves the fake clock on by `ms` and lets the view's queued edits run. */
async function advance(t: TestContext, ms: number): Promise<void> {
  t.mock.timers.tick(ms);
  for (let i = 0; i < 5; i++) await tick();
}

test('status edits: the first at once, then at most one per interval, the latest winning', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  const surface = recorder();
  const view = new JobView(surface, { log: () => undefined });

  void view.sink(status('queued', 'Queued: #2 in line'));
  await advance(t, 0);
  assert.deepEqual(surface.shown, [{ at: 0, content: '⏳ Queued: #2 in line' }]);

  // Three changes within one interval: only the last is shown, one interval after the first.
  void view.sink(status('queued', 'Queued: #1 in line'));
  await advance(t, 100);
  void view.sink(status('aligning', 'Finding the face…'));
  await advance(t, 100);
  void view.sink(status('encoding', 'Encoding…'));
  await advance(t, STATUS_INTERVAL_MS - 201);
  assert.equal(surface.shown.length, 1, 'nothing before the interval is over');
  await advance(t, 1);
  assert.deepEqual(surface.shown.at(-1), { at: STATUS_INTERVAL_MS, content: '⏳ Encoding…' });

  // A change long after the last edit is shown at once.
  await advance(t, 5 * STATUS_INTERVAL_MS);
  void view.sink(status('generating', 'Generating…'));
  await advance(t, 0);
  assert.deepEqual(surface.shown.at(-1), {
    at: 6 * STATUS_INTERVAL_MS,
    content: '⏳ Generating…',
  });

  const gaps = surface.shown.slice(1).map((s, i) => s.at - surface.shown[i]!.at);
  assert.ok(
    gaps.every((gap) => gap >= STATUS_INTERVAL_MS),
    `gaps ${gaps.join(', ')}`,
  );
});

test('a status pending when the result comes is never shown after it', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  const surface = recorder();
  const view = new JobView(surface, { log: () => undefined });
  void view.sink(status('queued', 'Queued: #1 in line'));
  await advance(t, 0);
  void view.sink(status('generating', 'Generating…'));
  void view.sink({ kind: 'info', text: 'done' });
  await view.done();
  await advance(t, 10 * STATUS_INTERVAL_MS);
  // The status, then the info reply (an embed: no content); the pending "Generating…" never.
  assert.deepEqual(
    surface.shown.map((s) => s.content),
    ['⏳ Queued: #1 in line', ''],
  );
});

test('the preview is one status edit with its picture, and the result replaces it', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  const shown: { at: number; content: string; files: string[]; kind?: string }[] = [];
  const record = (message: Outgoing, kind?: string) =>
    shown.push({
      at: Date.now(),
      content: message.content,
      files: message.files.map((f) => f.name ?? ''),
      ...(kind && { kind }),
    });
  const surface: Surface = {
    uploadLimit: 8 << 20,
    async show(message, kind) {
      record(message, kind);
      return 'm1';
    },
    async add(message) {
      record(message);
      return 'm2';
    },
    async fail() {},
  };
  const view = new JobView(surface, { log: () => undefined });
  const preview = { bytes: Uint8Array.of(1, 2), format: 'jpeg' as const, width: 16, height: 16 };
  void view.sink(status('generating', 'Painting…'));
  await advance(t, 0);
  void view.sink({ ...status('generating', 'First look'), preview });
  // Within the interval: the edit waits for it, then carries the picture.
  await advance(t, STATUS_INTERVAL_MS);
  const params = { pack: 'p', style: 's', structure: 0.6, color: 1, preserveColor: false };
  void view.sink({
    kind: 'result',
    jobId: 'j1',
    image: { bytes: Uint8Array.of(3), format: 'jpeg', width: 64, height: 64 },
    text: 'done',
    params: { ...params, size: 64, reference: 'p:0' },
  });
  await view.done();
  assert.deepEqual(shown, [
    { at: 0, content: '⏳ Painting…', files: [], kind: 'status' },
    {
      at: STATUS_INTERVAL_MS,
      content: '⏳ First look',
      files: ['preview-j1.jpg'],
      kind: 'status',
    },
    { at: STATUS_INTERVAL_MS, content: 'done', files: ['pastiche-j1.jpg'] },
  ]);
});
