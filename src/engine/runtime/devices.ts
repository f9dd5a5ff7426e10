/**
 * The `engine.device` setting and what it means, apart from onnxruntime-node so that reading
 * the config does not load the native runtime.
 */
import { platform } from 'node:os';

/** The `engine.device` setting: an ONNX Runtime execution provider, or `auto`. */
export const DEVICES = ['cpu', 'cuda', 'webgpu', 'dml', 'coreml', 'auto'] as const;
export type Device = (typeof DEVICES)[number];
/** An execution provider ONNX Runtime can be asked for. */
export type Provider = Exclude<Device, 'auto'>;

/**
 * The providers to try, in order: one named device alone (a GPU asked for and missing is an
 * error, not a silent 20× slowdown), or for `auto` the GPUs this platform's onnxruntime-node can
 * drive, then the CPU.
 */
export function providerChain(device: Device, os: NodeJS.Platform = platform()): Provider[] {
  if (device !== 'auto') return [device];
  const gpus: Provider[] =
    os === 'win32'
      ? ['cuda', 'dml', 'webgpu']
      : os === 'darwin'
        ? ['coreml', 'webgpu']
        : os === 'linux'
          ? ['cuda', 'webgpu']
          : [];
  return [...gpus, 'cpu'];
}

/** One sentence on what a host lacks for `provider`, for logs and errors. */
export function missingProviderHint(provider: Provider): string {
  switch (provider) {
    case 'cuda':
      return (
        "engine.device 'cuda' needs onnxruntime-node's CUDA 12 libraries, which .npmrc skips: run " +
        '`ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js` ' +
        'and install the CUDA 12 runtime with cuDNN 9 (README, "GPUs").'
      );
    case 'webgpu':
      return (
        "engine.device 'webgpu' found no GPU adapter: install the Vulkan loader (libvulkan1) and " +
        "your GPU's Vulkan driver (Linux), or use 'cuda' on NVIDIA."
      );
    case 'dml':
      return "engine.device 'dml' (DirectML) is only in onnxruntime-node's Windows build: use 'auto' or 'cpu' here.";
    case 'coreml':
      return "engine.device 'coreml' is only in onnxruntime-node's macOS build: use 'auto' or 'cpu' here.";
    case 'cpu':
      return "engine.device 'cpu' failed: reinstall onnxruntime-node (npm ci).";
  }
}
