/** The words after `/stylize` and `@Pastiche`, read into options (no Slack needed). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SlackUserError } from '../../src/bots/slack/errors.ts';
import { parseStyleText } from '../../src/bots/slack/text-options.ts';

describe('slack text options', () => {
  it('reads a style, an exemplar and options in any order', () => {
    assert.deepEqual(parseStyleText(''), {});
    assert.deepEqual(parseStyleText('<@U0BOT> cartoon:26 colour=0.5'), {
      pack: 'cartoon',
      exemplar: 26,
      color: 0.5,
    });
    assert.deepEqual(parseStyleText('structure=0.8 preserve anime:random size=256'), {
      structure: 0.8,
      preserveColor: true,
      pack: 'anime',
      exemplar: 'random',
      size: 256,
    });
    assert.deepEqual(parseStyleText('style=arcane:Jinx.jpg color=1'), {
      pack: 'arcane',
      exemplar: 'Jinx.jpg',
      color: 1,
    });
  });

  it('reads whole photo, every face, preset, truncation, reconstruct and the encoder', () => {
    assert.deepEqual(
      parseStyleText('cartoon:3 whole preset=colour-only truncation=0.7 encoder=identity'),
      {
        pack: 'cartoon',
        exemplar: 3,
        wholePhoto: true,
        preset: 'colour-only',
        truncation: 0.7,
        encoder: 'identity',
      },
    );
    assert.deepEqual(parseStyleText('all-faces reconstruct encoder=STYLE'), {
      allFaces: true,
      reconstruct: true,
      encoder: 'style',
    });
    assert.deepEqual(parseStyleText('faces=all whole-photo'), { allFaces: true, wholePhoto: true });
  });

  it('names the word it cannot read', () => {
    const fails = (text: string, pattern: RegExp) =>
      assert.throws(
        () => parseStyleText(text),
        (error: unknown) =>
          error instanceof SlackUserError &&
          error.code === 'bad-text' &&
          pattern.test(error.userMessage),
      );
    fails('cartoon anime', /I don't understand "anime"/);
    fails('structure=1.5', /structure must be a number from 0 to 1, not "1\.5"/);
    fails('colour=', /colour must be a number from 0 to 1/);
    fails('size=big', /size must be a whole number of pixels/);
    fails('cartoon mood=happy', /"mood=happy"/);
    fails(
      'preset=loud',
      /preset must be one of full, colour-only, structure-only, gentle, not "loud"/,
    );
    fails('encoder=w', /encoder must be one of style, identity, not "w"/);
    fails('truncation=2', /truncation must be a number from 0 to 1/);
    fails('faces=some', /"faces=some"/);
  });

  it('passes a style reference a result printed on as it is', () => {
    assert.deepEqual(parseStyleText('<@U1> cartoon:random:1a:2b'), {
      style: 'cartoon:random:1a:2b',
    });
    assert.deepEqual(parseStyleText('style=cartoon:26+3@0.3 colour=0.5'), {
      style: 'cartoon:26+3@0.3',
      color: 0.5,
    });
    assert.deepEqual(parseStyleText('result:abc-1'), { style: 'result:abc-1' });
    assert.deepEqual(parseStyleText('cartoon:26'), { pack: 'cartoon', exemplar: 26 });
  });
});
