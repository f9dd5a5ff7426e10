/**
 * The page: `static/` files as they are, and the client (`client/*.ts`) bundled in memory by
 * esbuild (the same esbuild tsx runs on), once at startup. No build step, nothing written.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';

export interface Asset {
  body: string;
  type: string;
}

const here = import.meta.dirname;

async function bundleClient(): Promise<string> {
  const result = await build({
    entryPoints: [join(here, 'client', 'main.ts')],
    bundle: true,
    format: 'esm',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
    // Module comments in the bundle then name client/…, not this machine's paths.
    absWorkingDir: here,
  });
  return result.outputFiles[0]!.text;
}

/** Path → asset, for the few files the page is made of. */
export async function loadAssets(): Promise<Map<string, Asset>> {
  const file = (name: string) => readFile(join(here, 'static', name), 'utf8');
  const [html, css, icon, js] = await Promise.all([
    file('index.html'),
    file('style.css'),
    file('favicon.svg'),
    bundleClient(),
  ]);
  return new Map([
    ['/', { body: html, type: 'text/html; charset=utf-8' }],
    ['/style.css', { body: css, type: 'text/css; charset=utf-8' }],
    ['/app.js', { body: js, type: 'text/javascript; charset=utf-8' }],
    ['/favicon.svg', { body: icon, type: 'image/svg+xml' }],
  ]);
}
