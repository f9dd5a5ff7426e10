/** `pastiche models pull [style…]`: download official styles from the hub and import them. */
import { Presets, SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { DownloadError, type PullEvent, pullStyles } from '../engine/packs.ts';
import { removePacksOnSignal } from './shutdown.ts';

const MB = 1024 * 1024;

function bytes(n: number): string {
  return n >= MB ? `${(n / MB).toFixed(1)} MB` : `${(n / 1024).toFixed(0)} kB`;
}

/**
 * Renders pull events: a progress bar per file (bytes, rate, ETA) on a terminal, one line per
 * file otherwise, so logs and CI output stay readable.
 */
function reporter(tty: boolean): (event: PullEvent) => void {
  let bar: SingleBar | undefined;
  let startedAt = 0;
  let startBytes = 0;
  return (event) => {
    switch (event.type) {
      case 'licence':
        console.log(`${event.text}\n`);
        break;
      case 'planned':
        console.log(`${event.files.length} files, ${bytes(event.totalBytes)} in all`);
        break;
      case 'file-missing':
        console.log(`${event.file.path}: not published (optional), skipped`);
        break;
      case 'file-start':
        startedAt = performance.now();
        startBytes = event.progress.resumedFrom;
        if (!tty) break;
        bar?.stop();
        bar = new SingleBar(
          {
            format: '{file} [{bar}] {percentage}% | {value}/{total} | {rate} | ETA {eta_formatted}',
            formatValue: (v, _o, type) =>
              type === 'value' || type === 'total' ? bytes(v) : `${v}`,
            stream: process.stdout,
            hideCursor: true,
            clearOnComplete: true,
          },
          Presets.shades_classic,
        );
        bar.start(event.progress.total ?? 0, event.progress.received, {
          file: event.file.path,
          rate: '',
        });
        break;
      case 'file-progress': {
        const seconds = (performance.now() - startedAt) / 1000;
        const rate =
          seconds > 0 ? `${bytes((event.progress.received - startBytes) / seconds)}/s` : '';
        bar?.update(event.progress.received, { rate });
        break;
      }
      case 'retry':
        bar?.stop();
        bar = undefined;
        console.log(`${event.file.path}: ${event.error.message}; retrying`);
        break;
      case 'file-done': {
        bar?.stop();
        bar = undefined;
        const { outcome } = event;
        const how = outcome.status === 'up-to-date' ? 'already here' : outcome.status;
        const check =
          outcome.verified === 'sha256' ? 'sha256 ok' : 'size ok (the hub gave no sha256)';
        console.log(`${event.file.path}: ${bytes(outcome.size)} ${how}, ${check}`);
        break;
      }
      case 'import':
        console.log(`importing ${event.pack} …`);
        break;
    }
  };
}

/** Adds `pull` under `pastiche models`. Defaults come from the configuration. */
export function registerPull(models: Command): void {
  models
    .command('pull [style...]')
    .description(
      'download official DualStyleGAN styles (non-commercial licence) from the Hugging Face hub and import them',
    )
    .option('--out <dir>', 'where packs go (default: config modelsDir)')
    .option('--downloads <dir>', 'where downloads go (default: config models.downloadsDir)')
    .option('--hub <url>', 'hub base URL (default: config models.hubUrl)')
    .option('--repo <owner/name>', 'hub repository (default: config models.repo)')
    .action(
      async (
        styles: string[],
        opts: { out?: string; downloads?: string; hub?: string; repo?: string },
      ) => {
        // The config module loads the whole engine's entry: only a pull needs it.
        const { ConfigError, loadConfig } = await import('../config.ts');
        let release = (): void => undefined;
        try {
          const config = loadConfig();
          const out = opts.out ?? config.modelsDir;
          release = removePacksOnSignal(out, 'pull interrupted (downloads are kept to resume)');
          const result = await pullStyles({
            hubUrl: opts.hub ?? config.models.hubUrl,
            repo: opts.repo ?? config.models.repo,
            styles: styles.length > 0 ? styles : [config.models.defaultStyle],
            downloadsDir: opts.downloads ?? config.models.downloadsDir,
            out,
            onEvent: reporter(process.stdout.isTTY === true),
          });
          console.log(`installed ${result.manifests.map((m) => m.name).join(', ')}`);
        } catch (error) {
          // Expected failures get one line; partial downloads stay for the next run to resume.
          if (!(error instanceof DownloadError || error instanceof ConfigError)) throw error;
          console.error(`error: ${error.message}`);
          if (error instanceof DownloadError && error.kind === 'offline') {
            console.error('offline? `pastiche models demo` builds packs with random weights');
          }
          process.exitCode = 1;
        } finally {
          release();
        }
      },
    );
}
