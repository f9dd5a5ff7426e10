/**
 * The style controls: pack, a searchable exemplar list with the pack's contact sheet, the
 * structure and colour sliders and preserve colour. Sliders left at the pack's defaults are not
 * sent, so a pack's per-slot profile still applies.
 */
import type { StyleInfo } from '../../../engine/index.ts';
import { byId, h } from './dom.ts';

export interface StyleChoice {
  pack: string;
  exemplar?: string;
  structure?: number;
  color?: number;
  preserveColor: boolean;
  /** A style reference, which wins over pack and exemplar. */
  style?: string;
  styleImage?: File;
  preset?: string;
  wholePhoto: boolean;
  allFaces: boolean;
  reconstruct: boolean;
}

export class StylePicker {
  readonly #pack = byId<HTMLSelectElement>('pack');
  readonly #search = byId<HTMLInputElement>('exemplar-search');
  readonly #exemplar = byId<HTMLSelectElement>('exemplar');
  readonly #sheet = byId<HTMLImageElement>('sheet');
  readonly #sheetBox = byId<HTMLDetailsElement>('sheet-box');
  readonly #structure = byId<HTMLInputElement>('structure');
  readonly #color = byId<HTMLInputElement>('color');
  readonly #preserve = byId<HTMLInputElement>('preserve');
  readonly #reference = byId<HTMLInputElement>('style-ref');
  readonly #styleImage = byId<HTMLInputElement>('style-image');
  readonly #preset = byId<HTMLSelectElement>('preset');
  readonly #whole = byId<HTMLInputElement>('whole-photo');
  readonly #allFaces = byId<HTMLInputElement>('all-faces');
  readonly #reconstruct = byId<HTMLInputElement>('reconstruct');
  readonly #blendWith = byId<HTMLInputElement>('blend-with');
  readonly #ratio = byId<HTMLInputElement>('blend-ratio');
  #touched = { structure: false, color: false };

  constructor(
    private readonly styles: StyleInfo[],
    defaultPack?: string,
  ) {
    for (const s of styles) {
      const label = `${s.name} (${s.size} px, ${s.exemplars.length} exemplars${s.demo ? ', demo' : ''})`;
      this.#pack.append(h('option', { value: s.name }, label));
    }
    if (defaultPack) this.#pack.value = defaultPack;
    this.#pack.addEventListener('change', () => this.#showPack());
    this.#search.addEventListener('input', () => this.#filter());
    this.#sheetBox.addEventListener('toggle', () => this.#loadSheet());
    for (const [name, input] of [
      ['structure', this.#structure],
      ['color', this.#color],
    ] as const) {
      input.addEventListener('input', () => {
        this.#touched[name] = true;
        this.#showValue(input);
      });
    }
    this.#ratio.addEventListener('input', () => this.#showValue(this.#ratio));
    this.#showValue(this.#ratio);
    this.#showPack();
  }

  get pack(): string {
    return this.#pack.value;
  }

  choice(): StyleChoice {
    return {
      pack: this.#pack.value,
      ...(this.#exemplar.value && { exemplar: this.#exemplar.value }),
      ...(this.#touched.structure && { structure: Number(this.#structure.value) }),
      ...(this.#touched.color && { color: Number(this.#color.value) }),
      preserveColor: this.#preserve.checked,
      ...(this.#reference.value.trim() && { style: this.#reference.value.trim() }),
      ...(this.#styleImage.files?.[0] && { styleImage: this.#styleImage.files[0] }),
      ...(this.#preset.value && { preset: this.#preset.value }),
      wholePhoto: this.#whole.checked,
      allFaces: this.#allFaces.checked,
      reconstruct: this.#reconstruct.checked,
    };
  }

  /** A blend of the chosen style (reference, else exemplar) with the one typed in, if any. */
  fusion(): { a: string; b: string; ratio: string } | undefined {
    const b = this.#blendWith.value.trim();
    if (!b) return undefined;
    const a = this.#reference.value.trim() || this.#exemplar.value || '0';
    return { a, b, ratio: this.#ratio.value };
  }

  #style(): StyleInfo | undefined {
    return this.styles.find((s) => s.name === this.#pack.value);
  }

  #showPack(): void {
    const style = this.#style();
    this.#exemplar.replaceChildren(
      ...(style?.exemplars ?? []).map((name, id) =>
        h('option', { value: String(id) }, `${String(id).padStart(2, '0')}  ${name}`),
      ),
    );
    this.#exemplar.selectedIndex = 0;
    this.#search.value = '';
    this.#touched = { structure: false, color: false };
    this.#structure.value = String(style?.defaults.structure ?? 0.6);
    this.#color.value = String(style?.defaults.color ?? 1);
    this.#showValue(this.#structure);
    this.#showValue(this.#color);
    this.#sheet.removeAttribute('src');
    this.#loadSheet();
  }

  /** Shows the exemplars whose name or id contains the search text; selects the first. */
  #filter(): void {
    const wanted = this.#search.value.trim().toLowerCase();
    let first: HTMLOptionElement | undefined;
    for (const option of this.#exemplar.options) {
      const match = !wanted || option.text.toLowerCase().includes(wanted);
      option.hidden = !match;
      if (match) first ??= option;
    }
    if (first && this.#exemplar.selectedOptions[0]?.hidden !== false) first.selected = true;
  }

  /** The sheet renders every exemplar once, so it is only asked for when opened. */
  #loadSheet(): void {
    if (!this.#sheetBox.open || this.#sheet.getAttribute('src')) return;
    this.#sheet.src = `/api/sheet?pack=${encodeURIComponent(this.#pack.value)}`;
  }

  #showValue(input: HTMLInputElement): void {
    const output = input.parentElement?.querySelector('output');
    if (output) output.value = Number(input.value).toFixed(2);
  }
}
