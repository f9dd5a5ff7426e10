import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { describe, it } from 'node:test';

import { UserError } from '../../src/engine/errors.ts';
import {
  Scheduler,
  type BatchRunner,
  type JobHandle,
  type SchedulerOptions,
} from '../../src/engine/scheduler/index.ts';

function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** A lane with a recorder: every job submitted through `job` logs its name when it runs. */
function lane(options: SchedulerOptions = {}) {
  const scheduler = new Scheduler<string>(options);
  const ran: string[] = [];
  const job = (name: string, userId: string, priority?: number): JobHandle<string> =>
    scheduler.submit({
      userId,
      ...(priority !== undefined && { priority }),
      run: async () => {
        ran.push(name);
        return name;
      },
    });
  /** Occupies the lane until `release()`, so what is submitted next is queued. */
  const block = async () => {
    const gate = deferred();
    const handle = scheduler.submit({ userId: 'blocker', run: () => gate.promise.then(() => 'x') });
    await tick();
    assert.equal(scheduler.stats().running, 1, 'the blocker is running');
    return { handle, release: () => gate.resolve() };
  };
  return { scheduler, ran, job, block };
}

const isCode = (code: string) => (error: unknown) =>
  error instanceof UserError && error.code === code;

describe('Scheduler: order', () => {
  it("runs B's one job second when A queued five just before", async () => {
    const { ran, job } = lane();
    const handles = [1, 2, 3, 4, 5].map((i) => job(`A${i}`, 'a'));
    handles.push(job('B1', 'b'));
    await Promise.all(handles.map((h) => h.result));
    assert.deepEqual(ran, ['A1', 'B1', 'A2', 'A3', 'A4', 'A5']);
  });

  it("runs B next even when A's first job already started", async () => {
    const { ran, job } = lane();
    const first = job('A1', 'a');
    await tick(); // A1 is running
    const rest = [2, 3, 4, 5].map((i) => job(`A${i}`, 'a'));
    const b = job('B1', 'b');
    await Promise.all([first, ...rest, b].map((h) => h.result));
    assert.deepEqual(ran, ['A1', 'B1', 'A2', 'A3', 'A4', 'A5']);
  });

  it('goes round-robin across three users', async () => {
    const { ran, job, block } = lane();
    const gate = await block();
    const handles = [
      ...['A1', 'A2', 'A3'].map((n) => job(n, 'a')),
      ...['B1', 'B2', 'B3'].map((n) => job(n, 'b')),
      job('C1', 'c'),
    ];
    gate.release();
    await Promise.all(handles.map((h) => h.result));
    assert.deepEqual(ran, ['A1', 'B1', 'C1', 'A2', 'B2', 'A3', 'B3']);
  });

  it('runs higher priority first, fair within a priority', async () => {
    const { ran, job, block } = lane();
    const gate = await block();
    const handles = [
      job('low-a', 'a'),
      job('high-a1', 'a', 5),
      job('high-a2', 'a', 5),
      job('high-b', 'b', 5),
      job('mid-c', 'c', 1),
    ];
    gate.release();
    await Promise.all(handles.map((h) => h.result));
    assert.deepEqual(ran, ['high-a1', 'high-b', 'high-a2', 'mid-c', 'low-a']);
  });

  it("keeps running after a job throws (sync or async), reporting that job's error", async () => {
    const { scheduler, job } = lane();
    const boom = new Error('boom');
    const failed = scheduler.submit({
      userId: 'a',
      run: async () => {
        throw boom;
      },
    });
    const syncFailed = scheduler.submit({
      userId: 'b',
      run: () => {
        throw new Error('sync boom');
      },
    });
    const events: unknown[] = [];
    failed.on('failed', ({ error }) => events.push(error));
    const next = job('next', 'c');
    await assert.rejects(failed.result, boom);
    await assert.rejects(syncFailed.result, /sync boom/);
    assert.equal(await next.result, 'next');
    assert.deepEqual(events, [boom]);
  });
});

describe('Scheduler: events', () => {
  it('reports queue positions and updates them as the queue moves', async () => {
    const { job, block } = lane();
    const gate = await block();
    const a1 = job('A1', 'a');
    const a2 = job('A2', 'a');
    const positions = { a1: [] as number[], a2: [] as number[], b1: [] as number[] };
    // A copy: deepEqual is an assertion signature and would narrow `positions` itself.
    const seen = () => structuredClone(positions);
    a1.on('queued', ({ position }) => positions.a1.push(position));
    a2.on('queued', ({ position }) => positions.a2.push(position));
    await tick();
    assert.deepEqual(seen(), { a1: [1], a2: [2], b1: [] });

    const b1 = job('B1', 'b'); // a newcomer goes ahead of A's second job
    b1.on('queued', ({ position }) => positions.b1.push(position));
    await tick();
    assert.deepEqual(seen(), { a1: [1], a2: [2, 3], b1: [2] });

    gate.release();
    await Promise.all([a1.result, a2.result, b1.result]);
    assert.deepEqual(seen(), { a1: [1], a2: [2, 3, 2, 1], b1: [2, 1] });
  });

  it('emits started, the stages the job reports, then done; later stages are ignored', async () => {
    const scheduler = new Scheduler<number>();
    let late: (() => void) | undefined;
    const handle = scheduler.submit({
      userId: 'u',
      run: async (ctx) => {
        ctx.stage('aligning');
        ctx.stage('encoding');
        await tick();
        ctx.stage('generating');
        late = () => ctx.stage('encoding');
        return 42;
      },
    });
    const events: string[] = [];
    handle.on('queued', () => events.push('queued'));
    handle.on('started', () => events.push('started'));
    handle.on('stage', ({ stage }) => events.push(stage));
    handle.on('done', ({ result }) => events.push(`done:${result}`));
    assert.equal(await handle.result, 42);
    late?.();
    assert.deepEqual(events, ['started', 'aligning', 'encoding', 'generating', 'done:42']);
  });
});

describe('Scheduler: cancellation and timeout', () => {
  it('removes a cancelled queued job at once; it never runs', async () => {
    const { ran, job, block } = lane();
    const gate = await block();
    const a = job('A', 'a');
    const b = job('B', 'b');
    const c = job('C', 'c');
    const cPositions: number[] = [];
    c.on('queued', ({ position }) => cPositions.push(position));
    let cancelledEvent = false;
    b.on('cancelled', () => (cancelledEvent = true));
    await tick();
    assert.equal(b.cancel(), true);
    await assert.rejects(b.result, isCode('cancelled'));
    assert.ok(cancelledEvent);
    await tick();
    assert.deepEqual(cPositions, [3, 2]);
    gate.release();
    await Promise.all([a.result, c.result]);
    assert.deepEqual(ran, ['A', 'C']);
    assert.equal(b.cancel(), false, 'already settled');
  });

  it('aborts a running job that honours its signal, and moves on', async () => {
    const { scheduler, job } = lane();
    let reason: unknown;
    const running = scheduler.submit({
      userId: 'a',
      run: (ctx) =>
        new Promise<string>((_, reject) =>
          ctx.signal.addEventListener('abort', () => reject((reason = ctx.signal.reason))),
        ),
    });
    const next = job('next', 'b');
    await tick();
    running.cancel();
    await assert.rejects(running.result, isCode('cancelled'));
    assert.equal(await next.result, 'next');
    assert.ok(isCode('cancelled')(reason), 'the signal carries the cancellation');
    assert.deepEqual(scheduler.stats(), { queued: 0, running: 0, detached: 0 });
  });

  it('moves on from a running job that ignores its signal, and drops its late result', async () => {
    const { scheduler, job } = lane();
    const stubborn = deferred<string>();
    const running = scheduler.submit({ userId: 'a', run: () => stubborn.promise });
    let doneEvents = 0;
    running.on('done', () => doneEvents++);
    const next = job('next', 'b');
    await tick();
    running.cancel();
    await assert.rejects(running.result, isCode('cancelled'));
    assert.equal(await next.result, 'next', 'the lane did not wait for the ignored abort');
    assert.equal(scheduler.stats().detached, 1);
    stubborn.resolve('too late');
    await tick();
    assert.equal(scheduler.stats().detached, 0);
    assert.equal(doneEvents, 0);
  });

  it('times a running job out with UserError(timeout), even if it ignores the signal', async () => {
    const { scheduler, job } = lane();
    const never = scheduler.submit({
      userId: 'a',
      timeoutMs: 30,
      run: () => new Promise(() => {}),
    });
    const failures: unknown[] = [];
    never.on('failed', ({ error }) => failures.push(error));
    const next = job('next', 'b');
    await assert.rejects(never.result, isCode('timeout'));
    assert.equal(await next.result, 'next');
    assert.ok(isCode('timeout')(failures[0]));
  });

  it('does not count queue time against the timeout', async (t) => {
    // Before the blocker starts: its timeout timer must be a fake one too, or the fake
    // clearTimeout cannot clear it and the real one keeps the process alive for the default 120 s.
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { scheduler, block } = lane();
    const gate = await block();
    // Twice the timeout passes on a fake clock while the job waits: a timer started at submit
    // would fire.
    const quick = scheduler.submit({ userId: 'a', timeoutMs: 40, run: async () => 'ok' });
    t.mock.timers.tick(80);
    assert.equal(scheduler.stats().queued, 1, 'still waiting, not timed out');
    gate.release();
    assert.equal(await quick.result, 'ok');
  });

  it('close() cancels queued and running jobs and refuses new ones', async () => {
    const { scheduler, job, block } = lane();
    const gate = await block();
    const queued = job('q', 'a');
    await tick();
    scheduler.close();
    await assert.rejects(gate.handle.result, isCode('cancelled'));
    await assert.rejects(queued.result, isCode('cancelled'));
    assert.throws(() => job('late', 'a'), isCode('busy'));
  });
});

describe('Scheduler: limits', () => {
  it('throws UserError(busy) when the queue is full; the running job does not count', async () => {
    const { job, block } = lane({ maxQueue: 2 });
    const gate = await block();
    const queued = [job('1', 'a'), job('2', 'b')];
    assert.throws(() => job('3', 'c'), isCode('busy'));
    gate.release();
    await Promise.all(queued.map((h) => h.result));
    assert.equal(await job('4', 'c').result, '4', 'room again once the queue drains');
  });

  it('validates its options and job specs', () => {
    assert.throws(() => new Scheduler({ maxBatch: 0 }), /maxBatch/);
    assert.throws(() => new Scheduler({ maxQueue: 1.5 }), /maxQueue/);
    const s = new Scheduler<string>();
    assert.throws(() => s.submit({ userId: '', run: async () => '' }), /userId/);
    assert.throws(() => s.submit({ userId: 'u', timeoutMs: -1, run: async () => '' }), /timeoutMs/);
  });
});

describe('Scheduler: batching', () => {
  type Input = { n: number };
  function batchLane(maxBatch: number) {
    const l = lane({ maxBatch });
    const calls: number[][] = [];
    const runner: BatchRunner<Input, string> = async (items) => {
      calls.push(items.map((i) => i.input.n));
      return items.map((i) => (i.input.n < 0 ? new Error(`bad ${i.input.n}`) : `r${i.input.n}`));
    };
    const batched = (n: number, userId: string, key = 'gen:cartoon:1024', r = runner) =>
      l.scheduler.submit({ userId, batch: { key, input: { n }, runner: r } });
    return { ...l, calls, runner, batched };
  }

  it('groups queued jobs with the same key into one runner call, each with its own result', async () => {
    const { calls, batched, job, block } = batchLane(4);
    const gate = await block();
    const b = [batched(1, 'a'), batched(2, 'b'), job('plain', 'c'), batched(3, 'd')];
    const other = batched(4, 'e', 'gen:arcane:1024');
    gate.release();
    assert.deepEqual(await Promise.all(b.map((h) => h.result)), ['r1', 'r2', 'plain', 'r3']);
    assert.equal(await other.result, 'r4');
    assert.deepEqual(calls, [[1, 2, 3], [4]]);
  });

  it('respects maxBatch and fairness order when filling a batch', async () => {
    const { calls, batched, block } = batchLane(2);
    const gate = await block();
    const handles = [batched(1, 'a'), batched(2, 'a'), batched(3, 'a'), batched(4, 'b')];
    gate.release();
    await Promise.all(handles.map((h) => h.result));
    assert.deepEqual(calls, [
      [1, 4],
      [2, 3],
    ]);
  });

  it('does not group jobs of a different runner, even under the same key', async () => {
    const { calls, batched, runner, block } = batchLane(4);
    const otherCalls: number[][] = [];
    const other: BatchRunner<Input, string> = async (items) => {
      otherCalls.push(items.map((i) => i.input.n));
      return runner(items, new AbortController().signal);
    };
    const gate = await block();
    const handles = [batched(1, 'a'), batched(2, 'b', undefined, other), batched(3, 'c')];
    gate.release();
    await Promise.all(handles.map((h) => h.result));
    assert.deepEqual(calls, [[1, 3], [2]]);
    assert.deepEqual(otherCalls, [[2]]);
  });

  it('fails only the job whose slot holds an Error; a throw fails the whole batch', async () => {
    const { scheduler, batched, block } = batchLane(4);
    const gate = await block();
    const ok = batched(1, 'a');
    const bad = batched(-1, 'b');
    gate.release();
    assert.equal(await ok.result, 'r1');
    await assert.rejects(bad.result, /bad -1/);

    const thrower: BatchRunner<Input, string> = async () => {
      throw new Error('generator crashed');
    };
    const all = [1, 2].map((n) =>
      scheduler.submit({ userId: `u${n}`, batch: { key: 'k', input: { n }, runner: thrower } }),
    );
    for (const h of all) await assert.rejects(h.result, /generator crashed/);
  });

  it('aborts the batch signal and moves on once every member is cancelled', async () => {
    const { scheduler, job, block } = batchLane(4);
    let batchSignal: AbortSignal | undefined;
    const hang: BatchRunner<Input, string> = (_, signal) => {
      batchSignal = signal;
      return new Promise(() => {});
    };
    const gate = await block();
    const members = [1, 2].map((n) =>
      scheduler.submit({ userId: `u${n}`, batch: { key: 'k', input: { n }, runner: hang } }),
    );
    const next = job('next', 'z');
    gate.release();
    await tick();
    await tick();
    members[0]?.cancel();
    assert.equal(batchSignal?.aborted, false, 'one member still waits for the batch');
    members[1]?.cancel();
    assert.equal(batchSignal?.aborted, true);
    assert.equal(await next.result, 'next');
  });
});
