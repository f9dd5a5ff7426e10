import { existsSync } from 'node:fs';
import { removeIfEmpty, removePartialPacks } from '../engine/packs.ts';

/**
 * SIGINT/SIGTERM for long-running commands: close gracefully, exit 0; exit 1 if closing fails
 * or takes longer than `limitMs`. A second signal finds no listener left, and Node's default
 * ends the process at once.
 */
export function exitOnSignal(options: {
  message: string;
  limitMs: number;
  close: () => Promise<void>;
}): void {
  const stop = (signal: NodeJS.Signals): void => {
    console.log(`\n${signal}: ${options.message}`);
    setTimeout(() => {
      console.error('shutdown is taking too long; exiting');
      process.exit(1);
    }, options.limitMs).unref();
    options.close().then(
      () => {
        console.log('stopped');
        // ONNX Runtime's thread pool and store clients may hold the event loop open.
        process.exit(0);
      },
      (error: unknown) => {
        console.error('error while stopping:', error);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/**
 * For `models import` and `models pull`: until the returned function is called, SIGINT/SIGTERM
 * remove the packs being written (the hidden `.partial` folders) and an `out` this command
 * created, then exit 130/143: a signal would otherwise end the process without running any
 * `finally`. Downloads (`.part` files) are not touched: the next pull resumes them.
 */
export function removePacksOnSignal(out: string, what: string): () => void {
  const created = !existsSync(out);
  const stop = (signal: NodeJS.Signals): void => {
    removePartialPacks();
    if (created) removeIfEmpty(out);
    console.error(`\n${signal}: ${what}; nothing was installed by the unfinished pack`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return () => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  };
}
