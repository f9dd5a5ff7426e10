/**
 * `pastiche <cmd>` loads only that subcommand's modules: `models list` never loads discord.js
 * or Bolt (CommonJS, so they show in the require cache), while help without a subcommand still
 * lists every subcommand.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'pastiche.js');

/** Prints, as the process exits, how many discord.js and Bolt modules it loaded. */
const PROBE =
  "data:text/javascript,import{createRequire}from'node:module';" +
  "const r=createRequire('/');process.on('exit',()=>console.log('chat modules: '+" +
  'Object.keys(r.cache).filter((k)=>/node_modules.(discord\\.js|@slack.bolt)/.test(k)).length))';

async function pastiche(...args: string[]): Promise<{ stdout: string; chatModules: number }> {
  // cwd: an empty dir, so a developer's .env never leaks into the test.
  const cwd = mkdtempSync(join(tmpdir(), 'pastiche-cli-'));
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', PROBE, BIN, ...args],
    { cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME } },
  );
  const count = /^chat modules: (\d+)$/m.exec(stdout)?.[1];
  assert.ok(count !== undefined, stdout);
  return { stdout, chatModules: Number(count) };
}

describe('pastiche subcommands', { timeout: 60_000 }, () => {
  it('`models list` loads no chat platform module', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'pastiche-models-'));
    const { stdout, chatModules } = await pastiche('models', 'list', '--dir', empty);
    assert.match(stdout, /^no packs in /m);
    assert.equal(chatModules, 0);
  });

  it('`discord` loads discord.js', async () => {
    const { stdout, chatModules } = await pastiche('discord', '--help');
    assert.match(stdout, /Usage: pastiche discord/);
    assert.ok(chatModules > 0);
  });

  it('help without a subcommand lists them all', async () => {
    const { stdout } = await pastiche('--help');
    for (const name of ['models', 'start', 'stylize', 'discord', 'worker']) {
      assert.match(stdout, new RegExp(`^  ${name}\\b`, 'm'), name);
    }
  });
});
