/**
 * The message column. A request gets one bot message, which each reply of that request edits:
 * a status line while queued or running, then the result, the error or the information.
 */
import type { RerollMode } from '../../../commands/index.ts';
import type { WireImage, WireReply } from '../wire.ts';
import { h } from './dom.ts';

/** What the buttons under a result and a running job ask for. */
export interface ResultActions {
  reroll(jobId: string, mode: RerollMode): void;
  /** One picture of a grid or strip at full size. */
  pick(jobId: string, tile: number): void;
  cancel(jobId: string): void;
  remove(jobId: string): void;
}

const time = (): string =>
  new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

export class Chat {
  constructor(
    private readonly column: HTMLElement,
    private readonly actions: ResultActions,
  ) {}

  /** The user's side: what they asked for, with their photo if any. */
  user(text: string, photo?: Blob): void {
    const body = h('div', { class: 'body' }, h('p', {}, text));
    if (photo) {
      const img = h('img', { class: 'photo', alt: 'your photo', src: URL.createObjectURL(photo) });
      body.append(img);
    }
    this.#append('you', 'user', body);
  }

  /** A message for a request, updated by its replies. */
  bot(): BotMessage {
    const body = h('div', { class: 'body' });
    const message = this.#append('Pastiche', 'bot', body);
    return new BotMessage(message, body, this.actions, () => this.#scroll());
  }

  /** A message not tied to a request (the page's own notes). */
  note(text: string, kind: 'info' | 'error' = 'info'): void {
    this.#append('Pastiche', 'bot', h('div', { class: 'body' }, h('p', { class: kind }, text)));
  }

  #append(name: string, who: 'user' | 'bot', body: HTMLElement): HTMLElement {
    const message = h(
      'article',
      { class: `message ${who}` },
      h('div', { class: 'avatar', 'aria-hidden': 'true' }, who === 'bot' ? '🎨' : '🙂'),
      h(
        'div',
        { class: 'content' },
        h('header', {}, h('strong', {}, name), h('time', {}, time())),
        body,
      ),
    );
    this.column.append(message);
    this.#scroll();
    return message;
  }

  #scroll(): void {
    this.column.scrollTop = this.column.scrollHeight;
  }
}

export class BotMessage {
  #status: HTMLElement | undefined;
  /** The job's first look, shown until its result (or an error) takes its place. */
  #preview: HTMLElement | undefined;

  constructor(
    readonly element: HTMLElement,
    private readonly body: HTMLElement,
    private readonly actions: ResultActions,
    private readonly scroll: () => void,
  ) {
    this.#setStatus('Sending…');
  }

  apply(reply: WireReply): void {
    switch (reply.kind) {
      case 'status': {
        const status = this.#setStatus(reply.text, reply.stage);
        const cancel = h('button', { type: 'button', class: 'small', title: 'Cancel' }, '✖ Cancel');
        cancel.addEventListener('click', () => this.actions.cancel(reply.jobId));
        status.append(cancel);
        if (reply.preview) this.#showPreview(reply.preview);
        break;
      }
      case 'result':
        this.#clearStatus();
        this.#clearPreview();
        this.body.append(this.#result(reply));
        break;
      case 'error':
        this.#clearStatus();
        this.#clearPreview();
        this.body.append(h('p', { class: 'error', role: 'alert' }, reply.text));
        break;
      case 'info':
        this.#clearStatus();
        this.body.append(h('p', { class: 'info' }, reply.text));
        if (reply.image) {
          this.body.append(
            h('img', { class: 'sheet', src: reply.image.url, alt: 'contact sheet' }),
          );
        }
        break;
      case 'done':
        this.#clearStatus();
        break;
    }
    this.scroll();
  }

  /** A request the server refused before any command ran. */
  fail(text: string): void {
    this.apply({ kind: 'error', code: 'refused', text });
  }

  #result(reply: Extract<WireReply, { kind: 'result' }>): HTMLElement {
    const { jobId, image } = reply;
    const img = h('img', {
      class: 'result',
      src: image.url,
      width: String(image.width),
      height: String(image.height),
      alt: `stylized portrait (${reply.params.style})`,
      'data-job': jobId,
    });
    if (image.width > 2 * image.height) img.classList.add('wide');
    img.addEventListener('load', this.scroll);
    const button = (label: string, title: string, onClick: () => void): HTMLButtonElement => {
      const b = h('button', { type: 'button', title, 'aria-label': title }, label);
      b.addEventListener('click', onClick);
      return b;
    };
    const download = h(
      'a',
      {
        class: 'button',
        href: `${image.url}?download`,
        download: '',
        title: 'Download',
        'aria-label': 'Download',
      },
      '⬇',
    );
    const remove = button('🗑', 'Delete', () => {
      this.actions.remove(jobId);
      figure.remove();
    });
    const figure = h(
      'figure',
      { class: 'result' },
      img,
      // The command's text is the parameters used, in words.
      h('figcaption', {}, h('p', { class: 'params' }, reply.text)),
      h(
        'div',
        { class: 'buttons' },
        button('🎲', 'New style', () => this.actions.reroll(jobId, 'style')),
        button('🧬', 'Structure only', () => this.actions.reroll(jobId, 'structure')),
        button('🎨', 'Colour only', () => this.actions.reroll(jobId, 'color')),
        button('🖼', 'Another exemplar', () => this.actions.reroll(jobId, 'exemplar')),
        button('🔀', 'Fuse with a new style', () => this.actions.reroll(jobId, 'fuse')),
        ...Array.from({ length: reply.params.tiles ?? 0 }, (_, i) =>
          button(String(i + 1), `Keep picture ${i + 1}`, () => this.actions.pick(jobId, i + 1)),
        ),
        download,
        remove,
      ),
    );
    return figure;
  }

  #setStatus(text: string, stage?: string): HTMLElement {
    this.#clearStatus();
    this.#status = h(
      'p',
      { class: 'status', 'data-stage': stage },
      h('span', { class: 'spinner', 'aria-hidden': 'true' }),
      text,
    );
    this.body.append(this.#status);
    return this.#status;
  }

  /** At the result's size, so the result takes its place without the page jumping. */
  #showPreview(image: WireImage): void {
    this.#clearPreview();
    const img = h('img', {
      class: 'preview',
      src: image.url,
      width: String(image.width),
      height: String(image.height),
      alt: 'first look at the portrait (still painting)',
    });
    img.addEventListener('load', this.scroll);
    this.#preview = img;
    this.body.append(img);
  }

  #clearPreview(): void {
    this.#preview?.remove();
    this.#preview = undefined;
  }

  #clearStatus(): void {
    this.#status?.remove();
    this.#status = undefined;
  }
}
