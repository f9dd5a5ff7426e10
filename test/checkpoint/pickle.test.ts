import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PICKLE_BUDGET, isList, isTuple, unpickle } from '../../src/engine/checkpoint/pickle.ts';
import type { PickleBudget, PyValue } from '../../src/engine/checkpoint/pickle.ts';
import { CheckpointError } from '../../src/engine/checkpoint/index.ts';
import type { CheckpointErrorCode } from '../../src/engine/checkpoint/index.ts';
import { PickleWriter } from './helpers.ts';

const opts = { timeout: 10000 };
const FILE = 'test.pkl';

function load(bytes: Uint8Array, budget?: Partial<PickleBudget>): PyValue {
  return unpickle(bytes, { file: FILE, globals: new Map(), ...(budget && { budget }) }).value;
}

function assertFails(
  bytes: Uint8Array,
  code: CheckpointErrorCode,
  budget?: Partial<PickleBudget>,
): void {
  assert.throws(
    () => load(bytes, budget),
    (err: unknown) =>
      err instanceof CheckpointError && err.code === code && err.message.startsWith(`${FILE}:`),
  );
}

describe('pickle interpreter', () => {
  test('maps Python values to JS values', opts, () => {
    const w = new PickleWriter().proto(2).emptyDict().mark();
    w.str('none').none().str('t').bool(true).str('f').bool(false);
    w.str('int')
      .int(-7)
      .str('big')
      .long(2n ** 70n)
      .str('i53')
      .long(2n ** 40n);
    w.str('float')
      .float(0.1)
      .str('bytes')
      .bytes(Uint8Array.from([1, 2]));
    w.str('list').emptyList().mark().int(1).int(2).appends();
    w.str('tuple').int(1).str('x').tupleN(2);
    w.str('unicode').str('héllo ✓');
    w.setitems().stop();
    const v = load(w.toBytes());
    assert.ok(v instanceof Map);
    assert.equal(v.get('none'), null);
    assert.equal(v.get('t'), true);
    assert.equal(v.get('f'), false);
    assert.equal(v.get('int'), -7);
    assert.equal(v.get('big'), 2n ** 70n);
    assert.equal(v.get('i53'), 2 ** 40);
    assert.equal(v.get('float'), 0.1);
    assert.deepEqual(v.get('bytes'), Uint8Array.from([1, 2]));
    const list = v.get('list');
    assert.ok(isList(list) && !isTuple(list));
    assert.deepEqual(list, [1, 2]);
    const tuple = v.get('tuple');
    assert.ok(isTuple(tuple));
    assert.deepEqual([...tuple], [1, 'x']);
    assert.equal(v.get('unicode'), 'héllo ✓');
    assert.deepEqual(
      [...v.keys()],
      ['none', 't', 'f', 'int', 'big', 'i53', 'float', 'bytes', 'list', 'tuple', 'unicode'],
    );
  });

  test('memo references share one object', opts, () => {
    const w = new PickleWriter()
      .proto(2)
      .emptyList()
      .put(0)
      .mark()
      .emptyList()
      .put(1)
      .get(1)
      .appends()
      .stop();
    const v = load(w.toBytes());
    assert.ok(Array.isArray(v));
    assert.equal(v[0], v[1]);
  });

  test('the persistent-id callback sees the id and supplies the value', opts, () => {
    const bytes = new PickleWriter().proto(2).str('a').int(3).tupleN(2).persid().stop().toBytes();
    const seen: PyValue[] = [];
    const { value } = unpickle(bytes, {
      file: FILE,
      globals: new Map(),
      persistentLoad: (pid) => {
        seen.push(pid);
        return 'loaded';
      },
    });
    assert.equal(value, 'loaded');
    assert.deepEqual(
      seen.map((p) => (Array.isArray(p) ? [...p] : p)),
      [['a', 3]],
    );
    assertFails(bytes, 'bad-format');
  });

  test('truncated and malformed input fails fast', opts, () => {
    assertFails(new PickleWriter().proto(2).emptyDict().toBytes(), 'truncated'); // no STOP
    assertFails(
      new PickleWriter().proto(2).raw(0x58, 0xff, 0xff, 0xff, 0x7f).toBytes(),
      'truncated',
    ); // 2 GB string
    assertFails(new PickleWriter().proto(2).raw(0x8b, 0, 0, 0, 0x80).toBytes(), 'unsupported'); // 2 GB integer
    assertFails(
      new PickleWriter()
        .proto(2)
        .raw(0x8e, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
        .toBytes(),
      'bad-format',
    );
    assertFails(new PickleWriter().proto(2).get(9).stop().toBytes(), 'bad-format'); // unknown memo key
    assertFails(new PickleWriter().proto(2).stop().toBytes(), 'bad-format'); // empty stack
    assertFails(new PickleWriter().proto(2).tuple().stop().toBytes(), 'bad-format'); // no MARK
    assertFails(new PickleWriter().proto(2).int(1).int(2).raw(0x73).stop().toBytes(), 'bad-format'); // SETITEM on int
    assertFails(new PickleWriter().proto(6).none().stop().toBytes(), 'unsupported');
    assertFails(new PickleWriter().proto(2).raw(0x56).stop().toBytes(), 'unsupported'); // text UNICODE opcode
    assertFails(
      new PickleWriter().proto(2).raw(0x58, 2, 0, 0, 0, 0xc3, 0x28).stop().toBytes(),
      'bad-format',
    ); // bad UTF-8
    assertFails(
      new PickleWriter()
        .proto(2)
        .raw(0x63, ...new Array<number>(5000).fill(0x61))
        .toBytes(),
      'bad-format',
    );
  });

  test('bounded nesting and memo: no blow-up, no hang', opts, () => {
    const deep = new PickleWriter().proto(2);
    for (let i = 0; i < 200_000; i++) deep.mark();
    assertFails(deep.none().stop().toBytes(), 'bad-format');
    const memo = new PickleWriter().proto(2).none();
    for (let i = 0; i < 100; i++) memo.raw(0x94);
    assertFails(memo.stop().toBytes(), 'bad-format', { memo: 50 });
    // Lists nested as deep as the budget allows are fine (the interpreter never recurses);
    // one level more is refused, so no consumer can be handed a value that overflows its stack.
    const nested = (depth: number): Uint8Array => {
      const lists = new PickleWriter().proto(2);
      for (let i = 0; i < depth; i++) lists.emptyList();
      for (let i = 1; i < depth; i++) lists.raw(0x61);
      return lists.stop().toBytes();
    };
    assert.ok(Array.isArray(load(nested(PICKLE_BUDGET.nesting))));
    assertFails(nested(PICKLE_BUDGET.nesting + 1), 'bad-format');
    assertFails(nested(100_000), 'bad-format');
  });

  test('INST and OBJ go through the whitelist too', opts, () => {
    const inst = new PickleWriter()
      .proto(2)
      .mark()
      .str('ls')
      .raw(0x69, ...new TextEncoder().encode('os\nsystem\n'))
      .stop();
    assertFails(inst.toBytes(), 'forbidden-global');
  });
});
