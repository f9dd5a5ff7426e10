/**
 * The engine's public face: everything outside src/engine (adapters, commands, the queue, the
 * CLI) imports from here and nowhere else in the engine, so its internals can move freely.
 * ESLint's `no-restricted-imports` holds that line (eslint.config.js).
 */

// The engine and what it answers.
export {
  Engine,
  type EngineApi,
  type EngineHealth,
  type EngineOptions,
  type StyleInfo,
  type StyleUsed,
  type StylizeResult,
  type Timings,
} from './engine.ts';

// Requests: their types and the parser every adapter and the queue share.
export {
  allowedSizes,
  encoderChoice,
  faceChoice,
  parseRequest,
  styleChoice,
  stylePart,
  stylizeRequest,
  type EncoderChoice,
  type FaceChoice,
  type OutputFormat,
  type ParsedRequest,
  type StyleChoice,
  type StylePart,
  type StylizeRequest,
} from './request.ts';
export {
  formatStyleRef,
  parseStyleRef,
  partOf,
  resultRef,
  type ReferableStyle,
  type StyleReference,
} from './style-ref.ts';
export { WEIGHT_PRESETS, presetWeights, weightPreset, type WeightPreset } from './presets.ts';
export { fusionRatios } from './fusion.ts';

// Errors.
export {
  FileAccessError,
  NoFaceError,
  PasticheError,
  USER_ERROR_CODES,
  UserError,
  describeError,
  newRequestId,
  type ErrorDescription,
  type UserErrorCode,
} from './errors.ts';

// Jobs: the handle `submit` returns, and the emitter the queue's remote jobs reuse.
export {
  JobEmitter,
  type JobEvents,
  type JobHandle,
  type JobStage,
  type SchedulerStats,
} from './scheduler/index.ts';

// Images, for adapters that fit or re-encode what they send.
export { decodeImage } from './image/decode.ts';
export { encodeImage, type EncodedImage } from './image/encode.ts';

// Devices, for configuration.
export { DEVICES, type Device } from './runtime/devices.ts';

// The latent cache (queue mode shares it).
export { createLatentCache, latentNamespace, type LatentCache } from './cache/latents.ts';

// Packs: what `pastiche models` and the start-up pull do (also their own light entry).
export * from './packs.ts';

// Model families: the seam a new architecture plugs into.
export {
  UnknownArchitectureError,
  familyFor,
  registerFamily,
  type FamilyPacks,
  type ModelFamily,
  type StyleJob,
  type StyleModel,
  type StyledInputs,
} from './families/index.ts';
export type { GenerateInput } from './runtime/loaded.ts';
