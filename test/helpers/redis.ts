/**
 * The one way tests reach Redis. The shared server (`PASTICHE_TEST_REDIS`, default
 * redis://127.0.0.1:6379, started by `npm test`'s pretest) is used by several runs at once, so
 * every test keeps to names of its own ({@link uniqueName}) and never flushes it. A test that
 * must stop or restart Redis, or needs counters nobody else touches, gets a private server
 * ({@link privateRedis}).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';

export const REDIS_URL = process.env.PASTICHE_TEST_REDIS ?? 'redis://127.0.0.1:6379';

/** `pastiche-test-<what>-<random>`: a queue name, key prefix or namespace no other run uses. */
export function uniqueName(what: string): string {
  return `pastiche-test-${what}-${randomUUID().slice(0, 8)}`;
}

export interface PrivateRedis {
  url: string;
  port: number;
  process: ChildProcess;
  /** Starts the server again on the same port and directory (after a stop or a crash). */
  restart(): Promise<void>;
  /** SIGTERM; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/**
 * A redis-server of this test's own on a free loopback port. With `dir`, an append-only file
 * there keeps what was written across {@link PrivateRedis.restart}; without, nothing is saved.
 */
export async function privateRedis(options: { dir?: string } = {}): Promise<PrivateRedis> {
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', ''];
  if (options.dir) {
    args.push('--appendonly', 'yes', '--appendfsync', 'always', '--dir', options.dir);
  } else {
    args.push('--appendonly', 'no');
  }
  const redis: PrivateRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    process: await startServer(args),
    async restart() {
      redis.process = await startServer(args);
    },
    async stop() {
      const child = redis.process;
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      return exited;
    },
  };
  return redis;
}

/** A free loopback port, as the OS hands one out. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  assert.ok(address && typeof address === 'object');
  return address.port;
}

async function startServer(args: string[]): Promise<ChildProcess> {
  const child = spawn('redis-server', args);
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis not ready:\n${out}`)), 10_000);
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`redis-server could not start (is it installed?): ${error.message}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis exited (${code}):\n${out}`));
    });
  });
  return child;
}
