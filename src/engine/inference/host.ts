/**
 * The inference host: the child process that holds every model and does every heavy step (ONNX
 * Runtime sessions, photo decoding, face detection and landmarks, warping, image encoding).
 * `InferenceClient` forks it; it answers one message per call and knows nothing of jobs, users
 * or the cache, which stay in the main process so they outlive a crash here.
 */
import { UserError } from '../errors.ts';
import { warmUpFaces } from '../face/index.ts';
import { registerFamily } from '../families/index.ts';
import { renderOutput } from '../image/render.ts';
import { alignPhoto, alignPhotoFaces } from '../photo.ts';
import { ModelPool } from '../runtime/pool.ts';
import {
  toWire,
  type FromHost,
  type HostConfig,
  type HostOp,
  type HostOps,
  type ToHost,
} from './protocol.ts';

type Handler<O extends HostOp> = (
  args: HostOps[O]['args'],
  signal: AbortSignal,
) => Promise<HostOps[O]['result']>;

const send = (message: FromHost): void => {
  process.send?.(message);
};

function main(): void {
  if (!process.send) throw new Error('the inference host must be started by InferenceClient');
  const config = JSON.parse(process.argv[2] ?? '{}') as HostConfig;
  for (const [architecture, url] of Object.entries(config.families ?? {})) {
    registerFamily(architecture, url);
  }
  const pool = new ModelPool({
    modelsDir: config.modelsDir,
    budgetBytes: config.budgetBytes,
    session: {
      threads: config.threads,
      ...(config.device && { device: config.device }),
      onFallback: (message) => console.warn(message),
    },
    warmup: config.warmup,
  });
  const style = (pack: string) => pool.style(pack);
  const aborted = (signal: AbortSignal): void => {
    if (signal.aborted) throw new UserError('cancelled', 'stopped in the inference host');
  };

  const handlers: { [O in HostOp]: Handler<O> } = {
    load: async ({ pack, identity }) => {
      const loaded = await style(pack);
      if (identity) await pool.identityEncoder(loaded);
    },
    'warm-faces': () => warmUpFaces(config.face),
    align: ({ bytes }, signal) => alignPhoto(bytes, config, signal),
    'align-all': ({ bytes, maxFaces }, signal) =>
      alignPhotoFaces(bytes, { ...config, ...(maxFaces !== undefined && { maxFaces }) }, signal),
    'encode-all': async ({ pack, crops, encoder }) => {
      const loaded = await style(pack);
      const chosen = encoder === 'identity' ? await pool.identityEncoder(loaded) : loaded.encoder;
      return chosen.encode(crops);
    },
    encode: async ({ pack, crop, encoder }) => {
      const loaded = await style(pack);
      const chosen = encoder === 'identity' ? await pool.identityEncoder(loaded) : loaded.encoder;
      return (await chosen.encode([crop]))[0]!;
    },
    exemplar: async ({ pack, id }) => (await style(pack)).exemplar(id),
    sample: async ({ pack, structureSeed, colorSeed }) =>
      (await style(pack)).sample(structureSeed, colorSeed),
    extrinsic: async ({ pack, exemplar, keepColour }) =>
      (await style(pack)).extrinsic(exemplar, keepColour),
    generate: async ({ pack, inputs, noiseSeed, outputs }, signal) => {
      const loaded = await style(pack);
      const start = performance.now();
      const raw = await loaded.generate(inputs, noiseSeed);
      const generateMs = performance.now() - start;
      const results: HostOps['generate']['result']['outputs'] = [];
      let offset = 0;
      for (const output of outputs) {
        const begin = performance.now();
        try {
          aborted(signal);
          const { image, pasteMs } = await renderOutput(raw, offset, output, config.photo);
          const outputMs = performance.now() - begin - (pasteMs ?? 0);
          results.push({ ok: true, image, outputMs, ...(pasteMs !== undefined && { pasteMs }) });
        } catch (error) {
          results.push({ ok: false, error: toWire(error) });
        }
        offset += output.images;
      }
      return { generateMs, outputs: results };
    },
  };

  const running = new Map<number, AbortController>();
  process.on('message', (message: ToHost) => {
    switch (message.type) {
      case 'call': {
        const abort = new AbortController();
        running.set(message.id, abort);
        const handler = handlers[message.op] as Handler<HostOp>;
        handler(message.args, abort.signal)
          .then(
            (value) => send({ type: 'result', id: message.id, value }),
            (error: unknown) => send({ type: 'error', id: message.id, error: toWire(error) }),
          )
          .finally(() => running.delete(message.id));
        break;
      }
      case 'cancel':
        running.get(message.id)?.abort();
        break;
      case 'close':
        // Exiting frees the sessions; waiting for a pack still loading would only delay shutdown.
        process.exit(0);
    }
  });
  // The engine is gone (its process ended): nothing can use the models any more.
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready' });
}

main();
