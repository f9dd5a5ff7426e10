/** Shared by the playground tests: a hub nobody answers at, and the app's test settings. */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Commands } from '../../src/commands/index.ts';
import type { Caller, ReplySink } from '../../src/commands/types.ts';
import { UserError } from '../../src/engine/errors.ts';

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
    // The lines a person reads at a terminal: `auto` would log JSON into the test's pipe.
    PASTICHE_LOGGING_FORMAT: 'plain',
  };
}

/** Loads the page and returns the `name=value` of the session cookie it set. */
export async function pageSession(
  url: string,
  headers: Record<string, string> = {},
): Promise<string> {
  const res = await fetch(url, { headers });
  await res.arrayBuffer();
  const set = res.headers.get('set-cookie') ?? '';
  const pair = /^pastiche_session=[\w-]+/.exec(set)?.[0];
  assert.ok(pair, `no session cookie in "${set}" (status ${res.status})`);
  return pair;
}

export const IMAGE = { bytes: Uint8Array.of(1, 2, 3), format: 'png' as const, width: 1, height: 1 };
export const MAX_BYTES = 1000;

/** Answers stylize with a status and a result, fails on a one-byte photo, throws on help. */
export function fakeCommands(calls: { caller: Caller; photo?: Uint8Array }[]): Commands {
  const info = async (_caller: Caller, reply: ReplySink) =>
    void (await reply({ kind: 'info', text: 'ok' }));
  return {
    async stylize(caller, input, reply) {
      calls.push({ caller, ...(input.photo && { photo: input.photo }) });
      if (input.photo?.length === 1) {
        await reply({ kind: 'error', code: 'no-face', text: new UserError('no-face').userMessage });
        return;
      }
      await reply({ kind: 'status', jobId: 'job-1', stage: 'queued', position: 1, text: 'Queued' });
      const params = {
        pack: 'p',
        style: 's',
        structure: 0.6,
        color: 1,
        preserveColor: false,
        size: 1,
        reference: 'p:0',
      };
      await reply({ kind: 'result', jobId: 'job-1', image: IMAGE, text: 'done', params });
    },
    styleRandom: async (caller, _input, reply) => info(caller, reply),
    styleBlend: async (caller, _input, reply) => info(caller, reply),
    pick: async (caller, _input, reply) => info(caller, reply),
    wholePhoto: async (caller, _input, reply) => info(caller, reply),
    styleList: async (_caller, _input, reply) =>
      void (await reply({ kind: 'info', text: 'sheet', image: IMAGE })),
    reroll: async (caller, _input, reply) => info(caller, reply),
    cancel: async (caller, _input, reply) => info(caller, reply),
    deleteResult: async (caller, _input, reply) => info(caller, reply),
    forget: info,
    onForget: () => () => undefined,
    help: async () => {
      throw new Error('a bug');
    },
    privacy: info,
    check: async () => undefined,
    refundQuota: async () => undefined,
    styles: () => [],
    job: async () => undefined,
    catalogue: () => [],
    close: async () => undefined,
  };
}
