/**
 * The size limits Discord puts on what a bot sends, as the fake applies them (400 / 50035
 * "Invalid Form Body"): message components (5 rows of 5 buttons, custom ids of 100 characters),
 * autocomplete answers (25 choices of 100 characters), and registered commands (names of 32,
 * descriptions of 100, 25 options and choices, 4000 characters of text per command).
 */
import { ApplicationCommandType, InteractionResponseType } from 'discord.js';
import type { RecordedRequest } from './fake-discord.ts';

const ROWS = 5;
const PER_ROW = 5;
const TEXT = 100;
const CHOICES = 25;
const OPTIONS = 25;
const COMMAND_TEXT = 4000;
const CHAT_NAME = /^[-_\p{Ll}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;

interface Option {
  name: string;
  description: string;
  type: number;
  choices?: { name: string; value: string | number }[];
  options?: Option[];
}

interface Command {
  name: string;
  description?: string;
  type?: number;
  options?: Option[];
}

/** What is wrong with a request's body, if anything (empty: Discord would take it). */
export function formBodyErrors(req: RecordedRequest): string[] {
  const errors: string[] = [];
  const body = req.body;
  if (!body) return errors;
  if (req.method === 'PUT' && /\/commands$/.test(req.path)) {
    for (const c of body as unknown as Command[]) commandErrors(c, errors);
    return errors;
  }
  const data = (req.path.endsWith('/callback') ? (body.data ?? {}) : body) as Record<
    string,
    unknown
  >;
  if (body.type === InteractionResponseType.ApplicationCommandAutocompleteResult) {
    choiceErrors('autocomplete', data.choices as Option['choices'], errors);
  }
  const rows = data.components as { components?: { custom_id?: string }[] }[] | undefined;
  if (rows) {
    if (rows.length > ROWS) errors.push(`${rows.length} component rows (at most ${ROWS})`);
    for (const row of rows) {
      const items = row.components ?? [];
      if (items.length > PER_ROW) errors.push(`${items.length} buttons in a row (${PER_ROW})`);
      for (const item of items) {
        if ((item.custom_id?.length ?? 0) > TEXT) errors.push(`custom_id ${item.custom_id}`);
      }
    }
  }
  return errors;
}

function commandErrors(c: Command, errors: string[]): void {
  const chat = (c.type ?? ApplicationCommandType.ChatInput) === ApplicationCommandType.ChatInput;
  if (chat ? !CHAT_NAME.test(c.name) : c.name.length > 32) errors.push(`command name ${c.name}`);
  if (chat && !c.description) errors.push(`${c.name}: no description`);
  const text = { chars: c.name.length + (c.description?.length ?? 0) };
  optionErrors(c.name, c.options ?? [], errors, text);
  if (text.chars > COMMAND_TEXT) errors.push(`${c.name}: ${text.chars} characters of text`);
}

function optionErrors(
  where: string,
  options: Option[],
  errors: string[],
  text: { chars: number },
): void {
  if (options.length > OPTIONS) errors.push(`${where}: ${options.length} options`);
  for (const o of options) {
    const at = `${where} ${o.name}`;
    if (!CHAT_NAME.test(o.name)) errors.push(`option name ${at}`);
    if (!o.description || o.description.length > TEXT) errors.push(`${at}: description`);
    text.chars += o.name.length + o.description.length;
    for (const choice of o.choices ?? [])
      text.chars += choice.name.length + String(choice.value).length;
    choiceErrors(at, o.choices, errors);
    optionErrors(at, o.options ?? [], errors, text);
  }
}

function choiceErrors(where: string, choices: Option['choices'], errors: string[]): void {
  if (!choices) return;
  if (choices.length > CHOICES) errors.push(`${where}: ${choices.length} choices`);
  for (const c of choices) {
    if (!c.name || c.name.length > TEXT) errors.push(`${where}: choice name ${c.name}`);
    if (typeof c.value === 'string' && c.value.length > TEXT) {
      errors.push(`${where}: choice value ${c.value}`);
    }
  }
}
