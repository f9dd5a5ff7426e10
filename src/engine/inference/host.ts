/**
 * The inference host: the child process that holds every model and does every heavy step (ONNX
 * Runtime sessions, photo decoding, face detection and landmarks, warping, image encoding).
 * `InferenceClient` forks it; it answers one message per call and knows nothing of jobs, users
 * or the cache, which stay in the main process so they outlive a crash here.
 */
import { UserError } from '../errors.ts';
import { warmUpFaces } from '../face/index.ts';
import { registerFamily } from '../families/index.ts';
import { encodeImage, toRgb } from '../image/encode.ts';
import { renderOutput, type JobOutput } from '../image/render.ts';
import { alignPhoto, alignPhotoFaces } from '../photo.ts';
import { ModelPool } from '../runtime/pool.ts';
import type { TensorData } from '../runtime/session.ts';
import {
  toWire,
  type FromHost,
  type HostConfig,
  type HostOp,
  type HostOps,
  type HostProgress,
  type ToHost,
} from './protocol.ts';

type Handler<O extends HostOp> = (
  args: HostOps[O]['args'],
  signal: AbortSignal,
  progress: (progress: HostProgress) => void,
) => Promise<HostOps[O]['result']>;

const send = (message: FromHost): void => {
  process.send?.(message);
};

/** The kernel's high-water mark of this process's resident memory. */
const maxRssBytes = (): number => process.resourceUsage().maxRSS * 1024;

/**
 * The jobs of a generator call that get a preview, with the index of their image in the batch:
 * those whose file is one crop larger than the preview (tiles and pasted photos would show a
 * piece of what they become, and a crop at the preview's size or smaller gains nothing).
 */
function previewed(outputs: readonly JobOutput[], side: number): { job: number; image: number }[] {
  const jobs: { job: number; image: number }[] = [];
  let offset = 0;
  outputs.forEach((output, job) => {
    if (output.images === 1 && !output.paste && output.size > side)
      jobs.push({ job, image: offset });
    offset += output.images;
  });
  return jobs;
}

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
      ...(config.preview === false && { preview: false }),
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
    generate: async ({ pack, inputs, noiseSeed, outputs }, signal, progress) => {
      const loaded = await style(pack);
      const side = loaded.previewSize;
      const jobs = side === undefined ? [] : previewed(outputs, side);
      // Encoded and sent while the tail of the generator runs, and always before the result;
      // a failure only loses the preview.
      const previews: Promise<void>[] = [];
      const onPreview = (preview: TensorData): void => {
        for (const { job, image } of jobs) {
          const rgb = toRgb(preview, image);
          const options = {
            size: rgb.size,
            format: 'jpeg',
            quality: outputs[job]!.quality,
          } as const;
          previews.push(
            encodeImage(rgb.data, rgb.size, options).then(
              (encoded) => progress({ kind: 'preview', job, image: encoded }),
              (error: unknown) => console.warn(`preview not sent: ${String(error)}`),
            ),
          );
        }
      };
      const start = performance.now();
      const raw = await loaded.generate(inputs, noiseSeed, jobs.length ? onPreview : undefined);
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
      await Promise.all(previews);
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
        const progress = (p: HostProgress): void => {
          if (running.has(message.id)) send({ type: 'progress', id: message.id, progress: p });
        };
        handler(message.args, abort.signal, progress)
          .then(
            (value) => send({ type: 'result', id: message.id, value, maxRssBytes: maxRssBytes() }),
            (error: unknown) =>
              send({
                type: 'error',
                id: message.id,
                error: toWire(error),
                maxRssBytes: maxRssBytes(),
              }),
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
