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
