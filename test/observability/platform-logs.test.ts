/**
 * discord.js's and Bolt's own logs go into the one structured log, at their levels, tagged by
 * component, with the tokens scrubbed; and the Discord adapter reports its gateway as ready.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Events, Status } from 'discord.js';
import { startDiscord } from '../../src/bots/discord/index.ts';
import { startSlack } from '../../src/bots/slack/index.ts';
import type { Commands } from '../../src/commands/index.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { FakeDiscord } from '../discord/fake-discord.ts';
import { FakeSlack } from '../slack/fake-slack.ts';

type Line = Record<string, unknown>;

function logged(secret: string): { lines: Line[]; logger: ReturnType<typeof createLogger> } {
  const lines: Line[] = [];
  const logger = createLogger({
    format: 'json',
    level: 'debug',
    secrets: [secret],
    destination: { write: (l) => lines.push(JSON.parse(l) as Line) },
  });
  return { lines, logger };
}

const config = () =>
  loadConfig({
    cwd: mkdtempSync(join(tmpdir(), 'pastiche-platform-logs-')),
    env: { PASTICHE_CACHE_URL: 'memory', PASTICHE_SLACK_SOCKET_MODE: 'false' },
  });
// Neither test sends a command; the adapters only keep the reference.
// The adapters only wire themselves to the command layer here; no command runs.
const commands = { onForget: () => () => undefined } as unknown as Commands;

describe("the platforms' own logs", () => {
  it('discord.js: warn and debug events at their levels, tokens scrubbed', async () => {
    const token = 'bot-token';
    const { lines, logger } = logged(token);
    const fake = await FakeDiscord.start();
    const bot = await startDiscord({
      commands,
      config: config(),
      token,
      appId: fake.appId,
      rest: { api: fake.api, cdn: `${fake.base}/cdn` },
      log: () => undefined,
      logger,
    });
    try {
      assert.equal(bot.client.ws.status, Status.Ready);
      bot.client.emit(Events.Warn, `rate limited while sending ${token}`);
      const warn = lines.find((l) => l.component === 'discord.js' && l.level === 40);
      assert.ok(warn, JSON.stringify(lines));
      assert.equal(warn.msg, 'rate limited while sending [redacted]');
      // The gateway's own chatter during login, at debug.
      assert.ok(lines.some((l) => l.component === 'discord.js' && l.level === 20));
      assert.ok(!JSON.stringify(lines).includes(token));
    } finally {
      await bot.stop();
      await bot.close();
      await fake.close();
    }
  });

  it("Bolt: its logger is the structured log's, tokens scrubbed", async () => {
    const token = 'xoxb-test-platform-logs';
    const { lines, logger } = logged(token);
    const fake = await FakeSlack.start(token);
    const slack = await startSlack({
      commands,
      config: config(),
      botToken: token,
      signingSecret: 'signing-secret-for-test',
      port: 0,
      host: '127.0.0.1',
      slackApiUrl: fake.apiUrl,
      log: () => undefined,
      logger,
    });
    try {
      slack.app.logger.warn('retrying with', token, new Error('socket closed'));
      slack.app.logger.debug('an event came in');
      const warn = lines.find((l) => l.component === 'slack' && l.level === 40);
      assert.ok(warn, JSON.stringify(lines));
      assert.match(String(warn.msg), /^retrying with \[redacted\] Error: socket closed/);
      assert.ok(lines.some((l) => l.component === 'slack' && l.level === 20));
      assert.ok(!JSON.stringify(lines).includes(token));
    } finally {
      await slack.stop();
      await fake.close();
    }
  });
});
