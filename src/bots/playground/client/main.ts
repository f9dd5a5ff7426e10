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
  body?: Blob | Record<string, unknown>,
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
  const exemplar = choice.exemplar === undefined ? '' : `, exemplar ${choice.exemplar}`;
  void send(`/api/stylize?${query}`, `stylize with ${choice.pack}${exemplar}`, photo, photo);
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
for (const button of document.querySelectorAll<HTMLButtonElement>('[data-command]')) {
  const name = button.dataset.command as TextCommand;
  if (!TEXT_COMMANDS.includes(name)) continue;
  button.addEventListener('click', () => {
    if (name === 'forget') lastPhoto = undefined;
    void send('/api/command', name, { name, ...(picker && { pack: picker.pack }) });
  });
}
