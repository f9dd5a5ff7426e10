/** The one mapper from errors to replies and CLI lines (`describeError`, `errorReply`). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorReply } from '../../src/commands/replies.ts';
import { LimitError } from '../../src/commands/limits.ts';
import { ConfigError } from '../../src/config.ts';
import { CheckpointError } from '../../src/engine/checkpoint/errors.ts';
import { describeError, NoFaceError, PasticheError, UserError } from '../../src/engine/errors.ts';
import { createLogger } from '../../src/log.ts';

const noInternal = (): never => assert.fail('a typed error is not internal');

describe('errors: one mapper', () => {
  it('a typed error gives its sentence, no stack and no request id', () => {
    const error = new NoFaceError('0 detections', { cause: new Error('detector said so') });
    assert.ok(error instanceof PasticheError);
    assert.equal((error.cause as Error).message, 'detector said so');
    const reply = errorReply(error, noInternal);
    assert.equal(reply.code, 'no-face');
    assert.equal(reply.text, new UserError('no-face').userMessage);
    assert.equal(reply.requestId, undefined);
    assert.doesNotMatch(reply.text, /\n\s+at |0 detections/);
  });

  it('a limit adds when to try again', () => {
    const reply = errorReply(new LimitError('rate-limited', 90_000), noInternal);
    assert.equal(reply.code, 'rate-limited');
    assert.match(reply.text, /Try again in ~2 min\.$/);
  });

  it('an internal error gets the generic sentence and a request id, and is logged under it', () => {
    const lines: string[] = [];
    const logger = createLogger({ format: 'json', destination: { write: (l) => lines.push(l) } });
    const bug = new TypeError('cannot read properties of undefined');
    const reply = errorReply(bug, (error, requestId) =>
      logger.error({ err: error, requestId }, 'internal error'),
    );
    assert.equal(reply.code, 'internal');
    assert.match(reply.requestId ?? '', /^[0-9a-f]{8}$/);
    assert.ok(reply.text.endsWith(`(ref ${reply.requestId})`), reply.text);
    assert.doesNotMatch(reply.text, /cannot read|\n\s+at /);
    assert.equal(lines.length, 1);
    const entry = JSON.parse(lines[0]!) as { requestId: string; err: { stack: string } };
    assert.equal(entry.requestId, reply.requestId);
    assert.match(entry.err.stack, /TypeError: cannot read properties of undefined\n\s+at /);
  });

  it("an operator's error (checkpoint, config) is internal to a chat user, one line to the CLI", () => {
    const error = new CheckpointError('truncated', 'generator.pt', 'ends at byte 12');
    let logged: unknown;
    const user = describeError(error, 'user', (e) => (logged = e));
    assert.equal(user.code, 'internal');
    assert.equal(logged, error);
    const cli = describeError(error, 'operator', noInternal);
    assert.deepEqual(cli, { code: 'truncated', text: 'generator.pt: ends at byte 12' });
    const config = new ConfigError([{ key: 'playground.port', source: 'env', message: 'bad' }]);
    assert.equal(describeError(config, 'operator', noInternal).code, 'bad-config');
    // The CLI shows a user error's detail too.
    assert.match(
      describeError(new UserError('bad-option', 'size=9'), 'operator', noInternal).text,
      /size=9/,
    );
  });
});
