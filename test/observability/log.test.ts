/** The logger: levels, formats, and that secrets never reach the output. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loggerFor } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger, lineLog, type LogFormat } from '../../src/log.ts';

const TOKEN = 'MTIzNDU2Nzg5.Gabcde.discord-bot-token-value';
const SIGNING = '8f14e45fceea167a5a36dedd4bea2543';

function collect(format: LogFormat): { lines: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  const logger = createLogger({
    format,
    level: 'debug',
    secrets: [TOKEN, SIGNING, undefined],
    destination: { write: (line) => lines.push(line) },
  });
  return { lines, logger };
}

describe('log', () => {
  for (const format of ['json', 'plain'] as const) {
    it(`never writes a token or the signing secret (${format})`, () => {
      const { lines, logger } = collect(format);
      logger.info(`logging in with ${TOKEN}`);
      logger.warn({ token: TOKEN, config: { signingSecret: SIGNING } }, 'starting');
      logger.info({ headers: { authorization: `Bot ${TOKEN}` } }, 'request');
      logger.error({ err: new Error(`401 for token ${TOKEN}`) }, 'login failed');
      logger.child({ jobId: 'j1' }).debug(`Authorization: Bearer xoxb-1234-5678-abcdefgh`);
      lineLog(logger)(`slack: signature ${SIGNING} refused`);
      const out = lines.join('');
      assert.equal(lines.length, 6);
      assert.ok(!out.includes(TOKEN), out);
      assert.ok(!out.includes(SIGNING), out);
      assert.ok(!out.includes('xoxb-1234-5678-abcdefgh'), out);
      assert.match(out, /\[redacted\]/);
      // What is not secret survives.
      assert.match(out, /login failed/);
      assert.match(out, /j1/);
    });
  }

  it('json: one object a line with level and ids; plain: readable lines', () => {
    const json = collect('json');
    json.logger.child({ jobId: 'j9', userId: 'u1' }).warn('slow');
    const entry = JSON.parse(json.lines[0]!) as Record<string, unknown>;
    assert.deepEqual([entry.level, entry.msg, entry.jobId, entry.userId], [40, 'slow', 'j9', 'u1']);
    const plain = collect('plain');
    plain.logger.info('playground: http://127.0.0.1:8788/');
    plain.logger.child({ requestId: 'ab12cd34' }).warn('slow');
    assert.deepEqual(plain.lines, [
      'playground: http://127.0.0.1:8788/\n',
      'WARN slow requestId=ab12cd34\n',
    ]);
  });

  it('a logged line with a stack trace is an error record', () => {
    const { lines, logger } = collect('json');
    lineLog(logger)(`discord: ref 1: ${new Error('boom').stack}`);
    assert.equal((JSON.parse(lines[0]!) as { level: number }).level, 50);
  });

  it("the app's logger scrubs the configured tokens, not the public application id", () => {
    const config = loadConfig({
      cwd: '/nonexistent',
      env: { DISCORD_TOKEN: TOKEN, SLACK_SIGNING_SECRET: SIGNING, DISCORD_APP_ID: '1234567890' },
    });
    const lines: string[] = [];
    const logger = loggerFor(config, { write: (line) => lines.push(line) });
    logger.error({ err: new Error(`gateway refused ${TOKEN}`) }, `invite: client_id=1234567890`);
    lineLog(logger)(`slack: bad signature ${SIGNING}`);
    const out = lines.join('');
    assert.ok(!out.includes(TOKEN) && !out.includes(SIGNING), out);
    assert.match(out, /client_id=1234567890/);
  });
});
