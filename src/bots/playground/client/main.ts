/** The playground page: wires the controls, the message column and the event stream. */
import type { RerollMode } from '../../../commands/index.ts';
import { TEXT_COMMANDS, type TextCommand, type WireEvent } from '../wire.ts';
import { loadState, post, requestId } from './api.ts';
import { Chat, type BotMessage } from './chat.ts';
import { byId } from './dom.ts';
import { StylePicker } from './picker.ts';

const REROLL_LABELS: Record<RerollMode, string> = {
  style: '🎲 new style',
  structure: '🧬 new structure',
  color: '🎨 new colour',
  exemplar: '🖼 another exemplar',
  fuse: '🔀 fused with a new style',
};

const state = await loadState();
const pending = new Map<string, BotMessage>();
let lastPhoto: File | undefined;

if (state.notice) {
  const notice = byId('notice');
  notice.textContent = state.notice;
  notice.hidden = false;
}

const chat = new Chat(byId('messages'), {
  reroll: (jobId, mode) =>
    void send(`/api/reroll`, `${REROLL_LABELS[mode]} of that one`, { jobId, mode }),
  cancel: (jobId) => void send('/api/cancel', 'cancel', { jobId }),
  remove: (jobId) => void send('/api/delete', 'delete that result', { jobId }),
  pick: (jobId, tile) => void send('/api/pick', `keep picture ${tile}`, { jobId, tile }),
});
const picker =
  state.styles.length > 0 ? new StylePicker(state.styles, state.defaultPack) : undefined;
if (!picker)
  chat.note(
    'No style pack is installed. Run `npx pastiche models pull cartoon`, then restart.',
    'error',
  );

const events = new EventSource('/api/events');
events.addEventListener('reply', (event) => {
  const { requestId: id, reply } = JSON.parse((event as MessageEvent<string>).data) as WireEvent;
  pending.get(id)?.apply(reply);
  if (reply.kind === 'done') pending.delete(id);
});

/** Posts one command and gives its replies a message of their own. */
async function send(
  path: string,
  said: string,
  body?: Blob | FormData | Record<string, unknown>,
  photo?: Blob,
): Promise<void> {
  chat.user(said, photo);
  const id = requestId();
  const message = chat.bot();
  pending.set(id, message);
  const refused = await post(path, id, body);
  if (refused) {
    message.fail(refused);
    pending.delete(id);
  }
}

function stylize(photo: File | undefined): void {
  if (!picker) return;
  const choice = picker.choice();
  const query = new URLSearchParams({
    pack: choice.pack,
    preserveColor: String(choice.preserveColor),
  });
  if (choice.exemplar !== undefined) query.set('exemplar', choice.exemplar);
  if (choice.structure !== undefined) query.set('structure', String(choice.structure));
  if (choice.color !== undefined) query.set('color', String(choice.color));
  if (choice.style) query.set('style', choice.style);
  if (choice.preset) query.set('preset', choice.preset);
  for (const flag of ['wholePhoto', 'allFaces', 'reconstruct'] as const) {
    if (choice[flag]) query.set(flag, 'true');
  }
  const named =
    choice.style ??
    `${choice.pack}${choice.exemplar === undefined ? '' : `, exemplar ${choice.exemplar}`}`;
  const extras = [
    choice.styleImage && 'the style of my image',
    choice.allFaces ? 'every face' : choice.wholePhoto && 'whole photo',
    choice.preset,
    choice.reconstruct && 'reconstruction',
  ].filter(Boolean);
  const said = `stylize with ${named}${extras.length ? ` (${extras.join(', ')})` : ''}`;
  let body: Blob | FormData | undefined = photo;
  if (choice.styleImage) {
    body = new FormData();
    if (photo) body.append('photo', photo);
    body.append('styleImage', choice.styleImage);
  }
  void send(`/api/stylize?${query}`, said, body, photo);
}

/** Two styles fused: the result's own style (or the picker's) with the one typed in. */
function blend(strip: boolean): void {
  if (!picker) return;
  const fusion = picker.fusion();
  if (!fusion) {
    chat.note('Type a second style to blend with (an exemplar id or a reference).');
    return;
  }
  const query = new URLSearchParams({ ...fusion, pack: picker.pack, strip: String(strip) });
  const said = strip
    ? `fusion strip from ${fusion.a} to ${fusion.b}`
    : `🔀 blend ${fusion.a} and ${fusion.b} at ${fusion.ratio}`;
  void send(`/api/blend?${query}`, said, lastPhoto, lastPhoto);
}

function usePhoto(file: File | undefined): void {
  if (!file) return;
  lastPhoto = file;
  stylize(file);
}

const input = byId<HTMLInputElement>('photo');
input.addEventListener('change', () => {
  usePhoto(input.files?.[0]);
  input.value = '';
});
for (const zone of [byId('drop'), byId('messages')]) {
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('dragging'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('dragging');
    usePhoto(e.dataTransfer?.files[0]);
  });
}

byId('composer').addEventListener('submit', (e) => {
  e.preventDefault();
  if (lastPhoto) stylize(lastPhoto);
  else chat.note('Drop a photo here or pick one first.');
});
byId('random').addEventListener('click', () => {
  const query = picker ? `?${new URLSearchParams({ pack: picker.pack })}` : '';
  const said = lastPhoto ? '🎲 random style on my photo' : '🎲 random portrait';
  void send(`/api/random${query}`, said, lastPhoto, lastPhoto);
});
byId('grid').addEventListener('click', () => {
  const query = new URLSearchParams({ count: '4', ...(picker && { pack: picker.pack }) });
  const said = lastPhoto ? '🎲 four random styles on my photo' : '🎲 four random portraits';
  void send(`/api/random?${query}`, said, lastPhoto, lastPhoto);
});
byId('blend').addEventListener('click', () => blend(false));
byId('strip').addEventListener('click', () => blend(true));
for (const button of document.querySelectorAll<HTMLButtonElement>('[data-command]')) {
  const name = button.dataset.command as TextCommand;
  if (!TEXT_COMMANDS.includes(name)) continue;
  button.addEventListener('click', () => {
    if (name === 'forget') lastPhoto = undefined;
    void send('/api/command', name, { name, ...(picker && { pack: picker.pack }) });
  });
}
