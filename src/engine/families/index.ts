/**
 * The registry of model families: a pack's `architecture` → the module that builds, loads and
 * runs it. Entries are module URLs, not objects, because the engine runs in two processes: the
 * inference host imports the same modules from the list the engine hands it (HostConfig).
 *
 * @example
 * registerFamily('toonify', new URL('./toonify/index.ts', import.meta.url).href);
 */
import { PasticheError } from '../errors.ts';
import type { ModelFamily } from './types.ts';

export type { FamilyPacks, ModelFamily, StyleJob, StyleModel, StyledInputs } from './types.ts';

/**
 * An architecture no registered family provides, named by a pack or by `--architecture`: the
 * sentence suits both, listing the choices and saying what another architecture needs.
 */
export class UnknownArchitectureError extends PasticheError {
  override readonly name = 'UnknownArchitectureError';
  readonly code = 'unknown-architecture';
  constructor(
    readonly architecture: string,
    readonly known: readonly string[],
  ) {
    super(
      `Pastiche has no model family for architecture "${architecture}"; it knows ` +
        `${known.join(', ')}. Another architecture needs a Pastiche version that includes its ` +
        'family, or the family registered with registerFamily().',
    );
  }
}

const modules = new Map<string, string>([
  ['dualstylegan', new URL('./dualstylegan/index.ts', import.meta.url).href],
]);
const loaded = new Map<string, Promise<ModelFamily>>();

/** Registers (or replaces) the family of `architecture`: a module whose default export it is. */
export function registerFamily(architecture: string, moduleUrl: string): void {
  modules.set(architecture, moduleUrl);
  loaded.delete(architecture);
}

/** Every registered family's module, for the inference host to register the same. */
export function familyModules(): Record<string, string> {
  return Object.fromEntries(modules);
}

/** The family of `architecture`; {@link UnknownArchitectureError} when none is registered. */
export function familyFor(architecture: string): Promise<ModelFamily> {
  const url = modules.get(architecture);
  if (url === undefined) {
    return Promise.reject(new UnknownArchitectureError(architecture, [...modules.keys()]));
  }
  let family = loaded.get(architecture);
  if (!family) {
    family = import(url).then((m: { default: ModelFamily }) => {
      if (m.default?.architecture !== architecture) {
        throw new Error(`${url} does not export the "${architecture}" family as its default`);
      }
      return m.default;
    });
    family.catch(() => loaded.delete(architecture));
    loaded.set(architecture, family);
  }
  return family;
}
