/**
 * Bad command-line input (a path that can't be read or written, an unknown --architecture) is
 * one sentence and exit 1: no stack trace, no "something went wrong (ref …)". Every case fails
 * before any model loads.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'pastiche.js');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function pastiche(cwd: string, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME } },
      (error, stdout, stderr) =>
        resolve({ code: error ? (error.code as number) : 0, stdout, stderr }),
    );
  });
}

/** Exit 1 and, on stderr, exactly one line: `error: <sentence>` matching `sentence`. */
function assertOneSentence(run: Run, sentence: RegExp): void {
  assert.equal(run.code, 1, run.stderr);
  const lines = run.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, run.stderr);
  assert.match(lines[0]!, /^error: /);
  assert.match(lines[0]!, sentence);
  assert.doesNotMatch(run.stderr, /ref [0-9a-f]{8}|\n\s+at /);
}

describe('CLI file arguments', { timeout: 60_000 }, () => {
  let cwd: string;
  before(() => {
    cwd = mkdtempSync(join(tmpdir(), 'pastiche-cli-files-'));
    writeFileSync(join(cwd, 'photo.png'), 'not read: the run stops before');
    writeFileSync(join(cwd, 'a-file'), '');
    mkdirSync(join(cwd, 'a-folder'));
  });

  it('a missing photo', async () => {
    const run = await pastiche(cwd, 'stylize', 'missing.png', '--style', 'demo-64:0');
    assertOneSentence(run, /The photo missing\.png doesn't exist\.$/);
  });

  it('a folder as the photo', async () => {
    const run = await pastiche(cwd, 'stylize', 'a-folder', '--style', 'demo-64:0');
    assertOneSentence(run, /The photo a-folder is a folder, not a file\.$/);
  });

  it('a missing --exemplar image', async () => {
    const args = ['stylize', 'photo.png', '--style', 'demo-64', '--exemplar', 'nope.png'];
    assertOneSentence(
      await pastiche(cwd, ...args),
      /The --exemplar image nope\.png doesn't exist\.$/,
    );
  });

  it('--output in a folder that does not exist, or under a file', async () => {
    const missing = ['stylize', 'photo.png', '--style', 'demo-64:0', '-o', 'nowhere/out.jpg'];
    assertOneSentence(
      await pastiche(cwd, ...missing),
      /The --output file nowhere\/out\.jpg is in a folder that doesn't exist\.$/,
    );
    const underFile = ['stylize', 'photo.png', '--style', 'demo-64:0', '-o', 'a-file/out.jpg'];
    assertOneSentence(await pastiche(cwd, ...underFile), /The --output file a-file\/out\.jpg /);
  });

  it('`models import` of a file or a missing folder', async () => {
    const file = await pastiche(cwd, 'models', 'import', 'a-file');
    assertOneSentence(file, /a-file: a file, not the release folder of checkpoints$/);
    const missing = await pastiche(cwd, 'models', 'import', 'nowhere');
    assertOneSentence(missing, /nowhere: no such directory$/);
  });

  it('`models demo --out` where no folder can be made', async () => {
    const run = await pastiche(cwd, 'models', 'demo', '--size', '64', '--out', 'a-file/packs');
    assertOneSentence(run, /The packs folder a-file\/packs is not inside a folder/);
  });
});

describe('CLI --architecture', { timeout: 60_000 }, () => {
  // One sentence for a pack's architecture and for the option: it lists the known families
  // and does not talk about "this pack" when no pack is involved.
  const unknown =
    /^error: Pastiche has no model family for architecture "mystery"; it knows dualstylegan\. /;

  it('`models demo --architecture` names the unknown one and the known ones', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'pastiche-cli-arch-'));
    const run = await pastiche(cwd, 'models', 'demo', '--size', '64', '--architecture', 'mystery');
    assertOneSentence(run, unknown);
    assert.doesNotMatch(run.stderr, /this pack/);
  });

  it('`models import --architecture` says the same', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'pastiche-cli-arch-'));
    const run = await pastiche(cwd, 'models', 'import', '.', '--architecture', 'mystery');
    assertOneSentence(run, unknown);
  });
});
