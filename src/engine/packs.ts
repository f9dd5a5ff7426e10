/**
 * The engine's pack management, a public entry of its own beside index.ts: installing, listing
 * and verifying packs needs none of the inference stack that index.ts loads (onnxruntime-node,
 * sharp, the face models), so `pastiche models …` imports this instead. index.ts re-exports it.
 */
export { OFFICIAL_LICENCE, type Manifest } from './pack/manifest.ts';
export { listPacks, openPack, verifyPack, type InstalledPack } from './pack/store.ts';
export { writeDemoPacks } from './pack/demo-packs.ts';
export type { DemoSize } from './pack/demo-packs.ts';
export { importOfficial, removeIfEmpty } from './pack/official.ts';
export { removePartialPacks } from './pack/write.ts';
export { pullStyles, type PullEvent } from './pack/pull.ts';
export { DownloadError } from './pack/hub.ts';
