/**
 * A command's request id crosses the queue: it travels in the job data (optional, so jobs from
 * an older bot still decode) and the worker's log lines about the job carry it, beside the same
 * job id the bot's lines carry.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createCommands } from '../../src/commands/index.ts';
import { loadConfig } from '../../src/config.ts';
import { UserError } from '../../src/engine/errors.ts';
import { createLogger } from '../../src/log.ts';
import { decodeRequest, encodeRequest } from '../../src/queue/protocol.ts';
import { caller, collect, last, PACK } from '../commands/setup.ts';
import { tempDir } from '../helpers/packs.ts';
import { loopback, type Loopback } from '../queue/harness.ts';

type Line = Record<string, unknown>;

describe('request ids in job data', () => {
  const request = {
    userId: 'slack:U1',
    face: { kind: 'random', seed: 's' },
    style: { kind: 'exemplar', pack: PACK },
  } as const;

  it('round-trip through the wire format', () => {
    const data = encodeRequest({ ...request, requestId: '0a1b2c3d' }, 1 << 20);
    assert.equal(decodeRequest(JSON.parse(JSON.stringify(data))).requestId, '0a1b2c3d');
  });

  it('are optional: job data without one decodes', () => {
    const data = encodeRequest(request, 1 << 20);
    assert.equal(decodeRequest(data).requestId, undefined);
  });

  it('that are not a short string fail the job as bad data', () => {
    for (const requestId of [42, '', 'x'.repeat(65)]) {
      const data = { v: 1, request: { ...request, requestId } };
      assert.throws(() => decodeRequest(data), UserError);
    }
  });
});

describe("the worker's log lines", { timeout: 120_000 }, () => {
  let rig: Loopback;
  before(async () => {
    rig = await loopback();
  });
  after(() => rig.close());

  it('carry the request id of the command that queued the job', async () => {
    const worker = await rig.startWorker({ PASTICHE_LOGGING_FORMAT: 'json' });
    const engine = await rig.engine();
    const lines: Line[] = [];
    const logger = createLogger({
      format: 'json',
      level: 'debug',
      destination: { write: (l) => lines.push(JSON.parse(l) as Line) },
    });
    const config = loadConfig({
      cwd: tempDir('queue-request-id'),
      env: { PASTICHE_MODELS_DIR: rig.modelsDir, PASTICHE_CACHE_URL: 'memory' },
    });
    const commands = await createCommands({ engine, config, logger, onError: () => undefined });
    try {
      const replies = await collect((s) => commands.styleRandom(caller('ann'), { pack: PACK }, s));
      const { jobId } = last(replies, 'result');
      const submitted = lines.find((l) => l.jobId === jobId && l.msg === 'job submitted');
      assert.match(String(submitted?.requestId), /^[0-9a-f]{8}$/);

      const finished = await workerLine(
        worker.output,
        (l) => l.jobId === jobId && l.msg === 'job finished',
      );
      assert.equal(finished.requestId, submitted?.requestId);
      assert.equal(finished.userId, 'playground:ann');
      assert.equal(finished.outcome, 'ok');
    } finally {
      await commands.close();
    }
  });
});

/** The worker's first JSON log line matching `match`, once it has printed it. */
async function workerLine(output: () => string, match: (line: Line) => boolean): Promise<Line> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    for (const text of output().split('\n')) {
      if (!text.startsWith('{')) continue;
      const line = JSON.parse(text) as Line;
      if (match(line)) return line;
    }
    if (Date.now() > deadline) throw new Error(`no such worker line:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
