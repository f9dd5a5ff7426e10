/**
 * Property-based fuzzing of every parser that reads input someone else controls: the pickle
 * machine, the zip and .npy readers, the cache codec, pack manifests, the configuration, the
 * queue protocol and the playground's request handling. The one property: every input ends in a
 * valid result or that component's typed error — never another exception, a hang or an abort.
 *
 * `test/fuzz/fuzz.test.ts` runs a bounded number of cases in `npm test`; `npm run fuzz`
 * (bench/fuzz.ts) runs many more and reports the slowest case and the peak RSS.
 */
import fs from 'node:fs';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { startPlayground, type Playground } from '../../src/bots/playground/server.ts';
import {
  CacheFormatError,
  decodeContent,
  decodeKeys,
  decodeStyle,
  encodeContent,
  encodeKeys,
  encodeStyle,
  fromText,
} from '../../src/engine/cache/codec.ts';
import { CheckpointError } from '../../src/engine/checkpoint/errors.ts';
import { openTorchCheckpoint, readNpy } from '../../src/engine/checkpoint/index.ts';
import { parseNpyHeader } from '../../src/engine/checkpoint/npy-header.ts';
import { NUMPY_GLOBALS } from '../../src/engine/checkpoint/npy.ts';
import { unpickle } from '../../src/engine/checkpoint/pickle.ts';
import { TORCH_GLOBALS } from '../../src/engine/checkpoint/storage.ts';
import { isLazyTensor } from '../../src/engine/checkpoint/tensor.ts';
import type { PyValue } from '../../src/engine/checkpoint/pickle-values.ts';
import { ConfigError, CONFIG_VARIABLES, loadConfig } from '../../src/config.ts';
import { PackError, readManifest } from '../../src/engine/pack/manifest.ts';
import { UserError } from '../../src/engine/errors.ts';
import {
  decodeError,
  decodeProgress,
  decodeRequest,
  decodeResult,
  decodeStyles,
} from '../../src/queue/protocol.ts';
import {
  float32Bytes,
  objectNpy,
  pickledArray,
  stateDictPickle,
  writeNpy,
  writeZip,
} from '../checkpoint/helpers.ts';
import { fakeCommands, MAX_BYTES } from '../playground/support.ts';

/** One fuzzed component: `run(numRuns)` resolves, or rejects with fast-check's counterexample. */
export interface FuzzTarget {
  readonly name: string;
  run(numRuns: number, seed?: number): Promise<void>;
}

/** Runs `fn`; a throw that is not an instance of `typed` fails the property. */
function typedOnly(typed: (new (...args: never[]) => Error)[], fn: () => unknown): boolean {
  try {
    fn();
  } catch (error) {
    if (typed.some((t) => error instanceof t)) return true;
    throw error;
  }
  return true;
}

/** Byte edits applied to a valid file: flips, overwrites with extreme values, cuts, inserts. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({
    kind: fc.constant('set' as const),
    at: fc.nat(),
    value: fc.constantFrom(0x00, 0x7f, 0x80, 0xff),
    length: fc.integer({ min: 1, max: 8 }),
  }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(original: Uint8Array, edits: readonly Mutation[]): Uint8Array {
  let bytes = Uint8Array.from(original);
  for (const edit of edits) {
    if (bytes.length === 0) break;
    const at = edit.at % bytes.length;
    if (edit.kind === 'flip') bytes[at]! ^= 1 << edit.bit;
    else if (edit.kind === 'set') bytes.fill(edit.value, at, at + edit.length);
    else if (edit.kind === 'cut') bytes = bytes.slice(0, at);
    else bytes = Uint8Array.from([...bytes.subarray(0, at), ...edit.bytes, ...bytes.subarray(at)]);
  }
  return bytes;
}

const edits = fc.array(mutation, { minLength: 1, maxLength: 6 });

/** Pickle opcodes with plausible arguments, so runs reach deep into the interpreter. */
const enc = new TextEncoder();
const str = (s: string): number[] => [0x8c, s.length, ...enc.encode(s)];
const opcode = fc.oneof(
  fc.constantFrom(
    [0x28], // MARK
    [0x7d], // EMPTY_DICT
    [0x5d], // EMPTY_LIST
    [0x29], // EMPTY_TUPLE
    [0x74], // TUPLE
    [0x85],
    [0x86],
    [0x87],
    [0x6c], // LIST
    [0x64], // DICT
    [0x61], // APPEND
    [0x65], // APPENDS
    [0x73], // SETITEM
    [0x75], // SETITEMS
    [0x32], // DUP
    [0x30], // POP
    [0x31], // POP_MARK
    [0x4e], // NONE
    [0x88],
    [0x89],
    [0x52], // REDUCE
    [0x81], // NEWOBJ
    [0x62], // BUILD
    [0x51], // BINPERSID
    [0x94], // MEMOIZE
    [0x93], // STACK_GLOBAL
    [0x2e], // STOP
    [0x63, ...enc.encode('collections\nOrderedDict\n')],
    [0x63, ...enc.encode('torch._utils\n_rebuild_tensor_v2\n')],
    [0x63, ...enc.encode('torch\nFloatStorage\n')],
    [0x63, ...enc.encode('numpy.core.multiarray\n_reconstruct\n')],
    [0x63, ...enc.encode('numpy\nndarray\n')],
    [0x63, ...enc.encode('numpy\ndtype\n')],
    [0x63, ...enc.encode('os\nsystem\n')],
    str('storage'),
    str('cpu'),
    str('f4'),
    str('<'),
  ),
  fc.integer({ min: 0, max: 255 }).map((n) => [0x4b, n]), // BININT1
  fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map((n) => {
    const b = Buffer.alloc(5);
    b[0] = 0x4a;
    b.writeInt32LE(n, 1);
    return [...b];
  }),
  fc.integer({ min: 0, max: 8 }).map((n) => [0x71, n]), // BINPUT
  fc.integer({ min: 0, max: 8 }).map((n) => [0x68, n]), // BINGET
  fc.uint8Array({ maxLength: 24 }).map((b) => [0x43, b.length, ...b]), // SHORT_BINBYTES
  fc.uint8Array({ minLength: 1, maxLength: 9 }).map((b) => [...b]), // anything at all
);
const pickleProgram = fc
  .array(opcode, { maxLength: 120 })
  .map((ops) => Uint8Array.from([0x80, 2, ...ops.flat(), 0x2e]));

/** Reads every tensor a parsed value holds, as a caller would. */
function touchTensors(value: PyValue, seen = new Set<unknown>(), depth = 0): void {
  if (depth > 200 || value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if (isLazyTensor(value)) {
    value.float32();
    return;
  }
  if (Array.isArray(value)) for (const v of value) touchTensors(v, seen, depth + 1);
  else if (value instanceof Map) for (const v of value.values()) touchTensors(v, seen, depth + 1);
}

export function fuzzTargets(dir: string): FuzzTarget[] {
  const file = (name: string): string => path.join(dir, name);
  let counter = 0;
  const fresh = (ext: string): string => file(`case-${process.pid}-${counter++}.${ext}`);

  // Valid inputs the mutations start from.
  const zipFile = file('seed.pt');
  writeZip(zipFile, [
    {
      name: 'archive/data.pkl',
      data: stateDictPickle('g_ema', [
        { key: 'w', storage: '0', type: 'FloatStorage', numel: 6, size: [2, 3], stride: [3, 1] },
        { key: 't', storage: '0', type: 'FloatStorage', numel: 6, size: [3, 2], stride: [1, 3] },
        { key: 'h', storage: '1', type: 'HalfStorage', numel: 2, size: [2], stride: [1] },
      ]),
    },
    { name: 'archive/data/0', data: float32Bytes([1, 2, 3, 4, 5, 6]) },
    { name: 'archive/data/1', data: Uint8Array.of(0, 0x3c, 0, 0xc0) },
  ]);
  const zipSeed = new Uint8Array(fs.readFileSync(zipFile));
  const npyFile = file('seed.npy');
  writeNpy(
    npyFile,
    "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }",
    float32Bytes([1, 2, 3, 4, 5, 6]),
  );
  const npySeed = new Uint8Array(fs.readFileSync(npyFile));
  const dictFile = file('seed-dict.npy');
  objectNpy(dictFile, (w) => {
    w.emptyDict().mark();
    w.str('a.png');
    pickledArray(w, [1, 2, 2], float32Bytes([1, 2, 3, 4]));
    w.setitems();
  });
  const dictSeed = new Uint8Array(fs.readFileSync(dictFile));
  const content = encodeContent({
    code: Float32Array.of(1, 2, 3, 4),
    nLatent: 2,
    styleDim: 2,
    alignment: {
      quad: [
        [0, 0],
        [1, 0],
        [1, 1],
        [0, 1],
      ],
      box: [0, 0, 1, 1],
      landmarks: [[1, 2]],
      faceCount: 1,
      qsize: 1,
    },
  });
  const style = encodeStyle({ code: Float32Array.of(1, 2), meta: { pack: 'p', seed: 3 } });
  const keys = encodeKeys([{ key: 'content:x', expires: 5 }]);
  const manifestSeed = JSON.stringify({
    format: 1,
    kind: 'style',
    name: 'cartoon',
    createdAt: 'now',
    licence: 'l',
    demo: true,
    sources: [],
    files: [{ name: 'codes.bin', size: 4, sha256: 'x' }],
    nLatent: 18,
    styleDim: 512,
    encoder: 'encoder',
    size: 1024,
    nStructure: 7,
    noiseSizes: [4, 8],
    exemplars: ['a.png'],
    codeTable: 'exstyle_code.npy',
    defaults: { structure: 0.6, color: 1, truncation: 0.7 },
    hasSampler: true,
    ownMapping: false,
  });

  const readFile = (bytes: Uint8Array, ext: string, read: (f: string) => void): void => {
    const f = fresh(ext);
    fs.writeFileSync(f, bytes);
    try {
      typedOnly([CheckpointError], () => read(f));
    } finally {
      fs.rmSync(f, { force: true });
    }
  };
  const readTorch = (f: string): void => {
    const checkpoint = openTorchCheckpoint(f);
    try {
      touchTensors(checkpoint.root);
    } finally {
      checkpoint.close();
    }
  };
  const readNumpy = (f: string): void => {
    const content = readNpy(f);
    if (content.kind === 'array') content.tensor.float32();
    else for (const t of content.entries.values()) t.float32();
  };

  const check = <Ts>(property: fc.IAsyncProperty<Ts>, numRuns: number, seed?: number) =>
    fc.assert(property, {
      numRuns,
      includeErrorInReport: true,
      ...(seed !== undefined && { seed }),
    });

  return [
    {
      name: 'pickle machine',
      run: (numRuns, seed) =>
        check(
          fc.asyncProperty(
            fc.oneof(pickleProgram, fc.uint8Array({ maxLength: 256 })),
            async (bytes) => {
              typedOnly([CheckpointError], () =>
                unpickle(bytes, { file: 'fuzz.pkl', globals: TORCH_GLOBALS }),
              );
              typedOnly([CheckpointError], () =>
                unpickle(bytes, { file: 'fuzz.pkl', globals: NUMPY_GLOBALS }),
              );
              return true;
            },
          ),
          numRuns,
          seed,
        ),
    },
    {
      name: 'zip reader (torch checkpoints)',
      run: (numRuns, seed) =>
        check(
          fc.asyncProperty(edits, async (e) => {
            readFile(mutate(zipSeed, e), 'pt', readTorch);
            return true;
          }),
          numRuns,
          seed,
        ),
    },
    {
      name: '.npy reader',
      run: (numRuns, seed) =>
        check(
          fc.asyncProperty(
            fc.boolean(),
            edits,
            fc.string({ maxLength: 80 }),
            async (dict, e, header) => {
              readFile(mutate(dict ? dictSeed : npySeed, e), 'npy', readNumpy);
              typedOnly([CheckpointError], () => parseNpyHeader(header, 'fuzz.npy'));
              return true;
            },
          ),
          numRuns,
          seed,
        ),
    },
    {
      name: 'cache codec',
      run: (numRuns, seed) =>
        check(
          fc.asyncProperty(
            fc.constantFrom(content, style, keys),
            edits,
            fc.uint8Array({ maxLength: 64 }),
            fc.string({ maxLength: 64 }),
            async (valid, e, raw, text) => {
              for (const bytes of [mutate(valid, e), raw]) {
                typedOnly([CacheFormatError], () => decodeContent(bytes));
                typedOnly([CacheFormatError], () => decodeStyle(bytes));
                typedOnly([CacheFormatError], () => decodeKeys(bytes));
              }
              typedOnly([CacheFormatError], () => fromText(text));
              return true;
            },
          ),
          numRuns,
          seed,
        ),
    },
    {
      name: 'pack manifest',
      run: (numRuns, seed) =>
        check(
          fc.asyncProperty(
            fc.oneof(
              fc.jsonValue().map((v) => JSON.stringify(v) ?? ''),
              edits.map((e) =>
                Buffer.from(mutate(Buffer.from(manifestSeed), e)).toString('latin1'),
              ),
            ),
            async (text) => {
              const packDir = fresh('pack');
              fs.mkdirSync(packDir);
              try {
                fs.writeFileSync(path.join(packDir, 'manifest.json'), text);
                typedOnly([PackError], () => readManifest(packDir));
              } finally {
                fs.rmSync(packDir, { recursive: true, force: true });
              }
              return true;
            },
          ),
          numRuns,
          seed,
        ),
    },
    {
      name: 'configuration',
      run: (numRuns, seed) => {
        const names = CONFIG_VARIABLES.map((v) => v.env);
        const env = fc.dictionary(
          fc.oneof(
            fc.constantFrom(...names),
            fc.constant('PASTICHE_NOT_A_SETTING'),
            fc.constant('PASTICHE_CONFIG'),
          ),
          fc.oneof(
            fc.string({ maxLength: 20 }),
            fc.constantFrom('0', '-1', '1e400', 'true', 'redis://x', '*', 'a,b'),
          ),
          { maxKeys: 6 },
        );
        return check(
          fc.asyncProperty(env, fc.option(fc.jsonValue({ maxDepth: 3 })), async (vars, json) => {
            const cwd = fresh('config');
            fs.mkdirSync(cwd);
            try {
              if (json !== null)
                fs.writeFileSync(path.join(cwd, 'site.json'), JSON.stringify(json) ?? '');
              const withFile = json !== null ? { ...vars, PASTICHE_CONFIG: 'site.json' } : vars;
              typedOnly([ConfigError], () => loadConfig({ cwd, env: withFile }));
            } finally {
              fs.rmSync(cwd, { recursive: true, force: true });
            }
            return true;
          }),
          numRuns,
          seed,
        );
      },
    },
    {
      name: 'queue protocol',
      run: (numRuns, seed) =>
        check(
          fc.asyncProperty(
            fc.anything(),
            fc.jsonValue(),
            fc.string(),
            async (value, json, text) => {
              for (const v of [value, json]) {
                typedOnly([UserError], () => decodeRequest(v));
                typedOnly([UserError], () => decodeResult(v));
                decodeProgress(v);
              }
              for (const t of [text, JSON.stringify(json) ?? '', `pastiche-user-error:${text}`]) {
                if (!(decodeError(t, 1) instanceof UserError)) throw new Error('not a UserError');
                decodeStyles(t);
              }
              return true;
            },
          ),
          numRuns,
          seed,
        ),
    },
    {
      name: 'playground requests',
      run: async (numRuns, seed) => {
        const playground: Playground = await startPlayground({
          commands: fakeCommands([]),
          host: '127.0.0.1',
          port: 0,
          maxBytes: MAX_BYTES,
          log: () => undefined,
        });
        const { port } = new URL(playground.url);
        const page = await fetch(playground.url);
        await page.arrayBuffer();
        const session =
          /^pastiche_session=[\w-]+/.exec(page.headers.get('set-cookie') ?? '')?.[0] ?? '';
        const send = (options: {
          method: string;
          path: string;
          headers: Record<string, string>;
          body: Uint8Array;
        }): Promise<number> =>
          new Promise((resolve, reject) => {
            // No keep-alive: a socket the server closed after refusing a body is not reused.
            const req = request({ host: '127.0.0.1', port, agent: false, ...options }, (res) => {
              res.resume();
              res.on('end', () => resolve(res.statusCode ?? 0));
            });
            req.on('error', reject);
            req.end(options.body);
          });
        const pathArb = fc
          .oneof(
            // Not /api/events: an event stream never ends, by design.
            fc.constantFrom(
              '/',
              '/api/state',
              '/api/sheet',
              '/api/images/x',
              '/api/stylize',
              '/api/command',
              '/api/reroll',
              '/api/cancel',
              '/app.js',
            ),
            fc.webPath().filter((p) => !p.startsWith('/api/events')),
          )
          // A target not starting with '/' is refused by Node's own parser before any of ours.
          .map((p) => (p.startsWith('/') ? p : `/${p}`))
          .chain((p) => fc.webQueryParameters().map((q) => (q ? `${p}?${q}` : p)));
        const token = fc.stringMatching(/^[\x21-\x7e]{0,40}$/);
        try {
          await check(
            fc.asyncProperty(
              fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'),
              pathArb,
              fc.constantFrom(`127.0.0.1:${port}`, `localhost:${port}`, 'evil.example', ''),
              fc.oneof(
                fc.constant(session),
                token.map((t) => `pastiche_session=${t}`),
                token,
              ),
              fc.record(
                { origin: token, 'x-request-id': token, 'content-type': token },
                { requiredKeys: [] },
              ),
              fc.oneof(
                fc.uint8Array({ maxLength: 64 }),
                fc.jsonValue().map((v) => enc.encode(JSON.stringify(v) ?? '')),
              ),
              async (method, p, host, cookie, extra, body) => {
                const status = await send({
                  method,
                  path: p,
                  headers: { host, cookie, ...extra },
                  body,
                });
                // A handler that threw something it did not mean to answers 500.
                if (status >= 500 && status !== 503)
                  throw new Error(`${method} ${p} answered ${status}`);
                return true;
              },
            ),
            numRuns,
            seed,
          );
          // And it still serves.
          const after = await fetch(new URL('api/state', playground.url), {
            headers: { cookie: session },
          });
          if (after.status !== 200)
            throw new Error(`the server answers ${after.status} after fuzzing`);
        } finally {
          await playground.close();
        }
      },
    },
  ];
}

/** A temporary directory for the fuzz cases' files. */
export function fuzzDir(): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pastiche-fuzz-'));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
