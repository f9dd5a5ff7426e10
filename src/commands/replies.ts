/** Turning errors, waits and parameters into the words of a reply. */
import {
  describeError,
  type EncodedImage,
  type StyleInfo,
  type StylizeResult,
} from '../engine/index.ts';
import { LimitError } from './limits.ts';
import type { JobRecord, RecordStyle } from './records.ts';
import type { OnError, Reply, ResultParams, Stage } from './types.ts';

/**
 * The `error` reply for anything a command threw: a typed error's sentence (plus when to try
 * again, for a limit), or for a bug the generic sentence with a request id, under which
 * `onError` logs it (see `describeError`).
 */
export function errorReply(
  error: unknown,
  onError: OnError,
  requestId?: string,
): Extract<Reply, { kind: 'error' }> {
  if (error instanceof LimitError) {
    const text = `${error.userMessage} ${retryWords(error.retryAfterMs)}`;
    return { kind: 'error', code: error.code, text, retryAfterMs: error.retryAfterMs };
  }
  const described = describeError(error, 'user', onError, requestId);
  const { code, text } = described;
  return {
    kind: 'error',
    code,
    text,
    ...(described.requestId !== undefined && { requestId: described.requestId }),
  };
}

/** "Try again in about 40 s." / "Try again in ~3 min." / "Try again in ~2 h." */
function retryWords(ms: number): string {
  return `Try again in ${duration(ms)}.`;
}

/** A rough duration in words: "about 40 s", "~3 min", "~2 h". */
function duration(ms: number): string {
  const s = Math.max(1, Math.ceil(ms / 1000));
  if (s < 60) return `about ${s} s`;
  const min = Math.ceil(s / 60);
  return min < 90 ? `~${min} min` : `~${Math.ceil(min / 60)} h`;
}

const STAGE_WORDS: Record<Stage, string> = {
  queued: 'Queued',
  'warming-up': 'Warming up (loading the style)…',
  aligning: 'Finding the face…',
  encoding: 'Reading the face…',
  generating: 'Painting…',
};

/** The status that shows a job's first look while the generator finishes it. */
export function previewReply(jobId: string, preview: EncodedImage): Reply {
  return {
    kind: 'status',
    jobId,
    stage: 'generating',
    text: 'First look — adding the details…',
    preview,
  };
}

/** A `status` reply; `position` and `etaMs` only while queued. */
export function statusReply(jobId: string, stage: Stage, position?: number, etaMs = 0): Reply {
  if (stage !== 'queued' || position === undefined) {
    return { kind: 'status', jobId, stage, text: STAGE_WORDS[stage] };
  }
  const text = `${STAGE_WORDS.queued}: #${position} in line, ready in ${duration(etaMs)}.`;
  return { kind: 'status', jobId, stage, position, text };
}

/** "exemplar 3 (demo-03.jpg)", "sampled style (structure 1a2b…, colour 3c4d…)", "your image". */
function describeStyle(style: RecordStyle): string {
  switch (style.kind) {
    case 'exemplar':
      return `exemplar ${style.id} (${style.name})`;
    case 'sampled':
      return `sampled style (structure ${style.structureSeed}, colour ${style.colorSeed})`;
    case 'image':
      return 'your exemplar image';
    case 'reference':
      return `fused style ${style.reference}`;
  }
}

/** The parameters of a result, with the pack's defaults filled in. */
export function resultParams(
  record: JobRecord,
  pack: StyleInfo,
  result: StylizeResult,
): ResultParams {
  const faceCount = result.face?.faceCount;
  return {
    pack: record.pack,
    style: record.tiles ? `${record.tiles.length} styles` : describeStyle(record.style),
    structure: record.options.structure ?? pack.defaults.structure,
    color: record.options.color ?? pack.defaults.color,
    preserveColor: record.options.preserveColor,
    size: result.image.width,
    ...(faceCount !== undefined && { faceCount }),
    ...(result.faces && { faces: result.faces.length }),
    ...(record.options.reconstruct && { reconstruct: true }),
    ...(record.face.kind === 'random' && { randomFace: true }),
    ...(record.tiles && { tiles: record.tiles.length }),
    reference: result.style.reference,
  };
}

/** The line under a result image. */
export function paramsText(params: ResultParams, record: JobRecord): string {
  const parts = [
    params.pack,
    params.style,
    `structure ${params.structure}`,
    `colour ${params.color}`,
    `${params.size} px`,
  ];
  if (params.preserveColor) parts.push('photo colours kept');
  if (record.face.kind === 'random') parts.push('random face');
  if (params.faces !== undefined) {
    const left = (params.faceCount ?? params.faces) - params.faces;
    parts.push(`${params.faces} ${params.faces === 1 ? 'face' : 'faces'} stylized`);
    if (left > 0) parts.push(`${left} left as ${left === 1 ? 'it was' : 'they were'}`);
  } else if ((params.faceCount ?? 1) > 1) {
    parts.push(`${params.faceCount} faces found, used the largest`);
  }
  if (params.reconstruct) parts.push('reconstruction (no style)');
  const line = parts.join(' · ');
  // The reference goes on its own line: `stylize style:` takes it back, on any surface.
  if (record.tiles?.length) {
    return `${line}\n${record.tiles.map((t, i) => `${i + 1}: \`${t}\``).join('\n')}`;
  }
  return `${line}\nstyle: \`${params.reference}\``;
}
