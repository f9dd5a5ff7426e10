/**
 * `pastiche start` as an operator runs it, in a child process: no style pack and no network
 * (the hub is a closed 127.0.0.1 port), then SIGTERM while a job runs.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { PlaygroundState } from '../../src/bots/playground/wire.ts';
import { ALIGNMENT, testEnv } from './support.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'pastiche.js');
const STARTUP_LIMIT_MS = 60_000;

describe('pastiche start with no packs and no network', () => {
  let models: string;
  let child: ChildProcess;
  let output = '';
  let url: string;
  let cookie = '';

  /** Resolves with the first match of `pattern` in the child's output. */
  function waitForOutput(pattern: RegExp, ms: number): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(output);
        if (!match) return;
        clearTimeout(timer);
        child.stdout!.off('data', check);
        resolve(match);
      };
      const timer = setTimeout(() => {
        child.stdout!.off('data', check);
        reject(new Error(`no ${pattern} within ${ms} ms; output:\n${output}`));
      }, ms);
      child.stdout!.on('data', check);
      check();
    });
  }

  before(async () => {
    models = await mkdtemp(join(tmpdir(), 'pastiche-start-'));
    // cwd is the temp dir too, so no .env of the checkout changes the settings.
    child = spawn(process.execPath, [BIN, 'start'], {
      cwd: models,
      env: { ...process.env, ...(await testEnv(models)) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  });

  after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await rm(models, { recursive: true, force: true });
  });

  it('prints the demo-pack notice and serves the page', async (t) => {
    const start = performance.now();
    [, url] = (await waitForOutput(/playground: (http:\/\/\S+)/, STARTUP_LIMIT_MS)) as [
      string,
      string,
    ];
    const page = await fetch(url);
    const seconds = (performance.now() - start) / 1000;
    assert.equal(page.status, 200);
    // The API answers only the session the page load issued.
    cookie = /^pastiche_session=[\w-]+/.exec(page.headers.get('set-cookie') ?? '')?.[0] ?? '';
    assert.match(await page.text(), /Pastiche playground/);
    t.diagnostic(`page served ${seconds.toFixed(1)} s after spawn`);

    assert.match(output, /Could not download "cartoon".*cannot reach the hub/);
    assert.match(output, /demo-256 is a demo pack with RANDOM weights/);
    assert.match(output, /npx pastiche models pull cartoon/);
    const state = (await (
      await fetch(new URL('api/state', url), { headers: { cookie } })
    ).json()) as PlaygroundState;
    assert.deepEqual(
      state.styles.map((s) => [s.name, s.demo]),
      [['demo-256', true]],
    );
    assert.match(state.notice ?? '', /RANDOM weights/);
  });

  it('exits 0 on SIGTERM while a job is running', async () => {
    const photo = await readFile(join(ALIGNMENT, 'astronaut.png'));
    const accepted = await fetch(new URL('api/stylize', url), {
      method: 'POST',
      headers: { cookie, 'x-request-id': 'sigterm', 'content-type': 'image/png' },
      body: photo,
    });
    assert.equal(accepted.status, 202);
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, output);
    assert.match(output, /SIGTERM: finishing running jobs/);
    assert.match(output, /stopped/);
  });
});
