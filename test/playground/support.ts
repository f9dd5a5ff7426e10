/** Shared by the playground tests: a hub nobody answers at, and the app's test settings. */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export const ALIGNMENT = join(import.meta.dirname, '..', 'fixtures', 'alignment');

/** A 127.0.0.1 URL whose port was free a moment ago: connecting is refused, as offline. */
export async function closedHubUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/** Settings for a test instance: its own models dir, an ephemeral port, nothing on disk. */
export async function testEnv(modelsDir: string): Promise<Record<string, string>> {
  return {
    PASTICHE_MODELS_DIR: modelsDir,
    PASTICHE_MODELS_HUB_URL: await closedHubUrl(),
    PASTICHE_PLAYGROUND_PORT: '0',
    PASTICHE_CACHE_URL: 'memory',
  };
}
