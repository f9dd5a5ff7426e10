/** `pastiche models …`: import official checkpoints, build demo packs, list and verify packs. */
import type { Command } from 'commander';
import {
  type DemoSize,
  importOfficial,
  listPacks,
  type Manifest,
  OFFICIAL_LICENCE,
  openPack,
  verifyPack,
  writeDemoPacks,
} from '../engine/packs.ts';
import { registerPull } from './pull.ts';
import { removePacksOnSignal } from './shutdown.ts';

export const DEFAULT_MODELS_DIR = 'models';

function describe(m: Manifest): string {
  const shape = `n=${m.nLatent} D=${m.styleDim}`;
  if (m.kind === 'encoder')
    return `${m.name}  ${m.space} encoder + mapping  ${shape}${m.demo ? '  (demo)' : ''}`;
  const extras = [
    m.hasSampler ? 'sampler' : 'no sampler',
    m.ownMapping ? 'own mapping' : `uses ${m.encoder}`,
  ];
  return `${m.name}  ${m.size}px  ${m.exemplars.length} exemplars  ${shape}  ${extras.join(', ')}${m.demo ? '  (demo)' : ''}`;
}

/** Runs `step` and reports its wall time and the process's peak RSS. */
async function timed<T>(label: string, step: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const result = await step();
  const seconds = ((performance.now() - start) / 1000).toFixed(1);
  const peak = (process.resourceUsage().maxRSS / 1024).toFixed(0);
  console.log(`${label} in ${seconds} s, peak RSS ${peak} MB`);
  return result;
}

interface DemoFlags {
  size: string;
  seed: string;
  out: string;
  wplus?: boolean;
  architecture: string;
}

export function registerModels(program: Command): void {
  const models = program.command('models').description('install and inspect style packs');
  registerPull(models);

  models
    .command('import <dir>')
    .description(
      'convert official DualStyleGAN checkpoints (encoder.pt, <style>/generator.pt, …) into packs',
    )
    .option('--style <name...>', 'only these style directories')
    .option('--out <dir>', 'where packs go', DEFAULT_MODELS_DIR)
    .option('--architecture <name>', 'the model family whose release <dir> is', 'dualstylegan')
    .action(async (dir: string, opts: { style?: string[]; out: string; architecture: string }) => {
      console.log(OFFICIAL_LICENCE);
      const release = removePacksOnSignal(opts.out, 'import interrupted');
      try {
        const manifests = await timed('imported', () =>
          importOfficial(dir, {
            out: opts.out,
            ...(opts.style && { styles: opts.style }),
            architecture: opts.architecture,
            onPack: (name) => console.log(`importing ${name} …`),
          }),
        );
        for (const m of manifests) console.log(`  ${describe(m)}`);
      } finally {
        release();
      }
    });

  models
    .command('demo')
    .description(
      'build demo packs of the official architecture with seeded random weights (no download)',
    )
    .option('--size <px>', '64, 256 or 1024', '256')
    .option('--seed <n>', 'weight seed', '0')
    .option('--out <dir>', 'where packs go', DEFAULT_MODELS_DIR)
    .option('--wplus', 'also build the W+ (identity) encoder (default below 1024)')
    .option('--no-wplus', 'skip the W+ encoder')
    .option('--architecture <name>', 'the model family whose demo packs to build', 'dualstylegan')
    .action(async (opts: DemoFlags) => {
      const size = Number(opts.size);
      if (size !== 64 && size !== 256 && size !== 1024) {
        program.error(`--size must be 64, 256 or 1024, not ${opts.size}`);
      }
      const packs = await timed('built', () =>
        writeDemoPacks(opts.out, size as DemoSize, {
          seed: Number(opts.seed),
          architecture: opts.architecture,
          ...(opts.wplus !== undefined && { wPlus: opts.wplus }),
        }),
      );
      const built = [packs.encoder, packs.encoderWPlus, packs.style].filter((m) => m !== undefined);
      console.log(built.map((m) => `  ${describe(m)}`).join('\n'));
      console.log(
        'Demo packs have random weights: their images are not portraits. See `models import`.',
      );
    });

  models
    .command('list')
    .description('show installed packs')
    .option('--dir <dir>', 'packs directory', DEFAULT_MODELS_DIR)
    .action((opts: { dir: string }) => {
      const packs = listPacks(opts.dir);
      if (packs.length === 0) console.log(`no packs in ${opts.dir}: try \`pastiche models demo\``);
      for (const p of packs) console.log(describe(p.manifest));
    });

  models
    .command('verify <pack...>')
    .description('re-check checksums and run one forward pass of every graph')
    .option('--dir <dir>', 'packs directory', DEFAULT_MODELS_DIR)
    .action(async (names: string[], opts: { dir: string }) => {
      for (const name of names) {
        const report = await verifyPack(openPack(opts.dir, name));
        console.log(`${name}: ${report.files} files match, ran ${report.graphs.join(', ')}`);
      }
    });
}
