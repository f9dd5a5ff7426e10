/** `discord register`: one bulk overwrite of the commands, globally or in one guild. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import {
  ApplicationCommandOptionType as Type,
  ApplicationCommandType,
  PermissionFlagsBits,
  type APIApplicationCommandOption,
} from 'discord.js';
import { inviteUrl, PERMISSIONS, registerCommands } from '../../src/bots/discord/register.ts';
import { tempDir } from '../helpers/packs.ts';
import { FakeDiscord } from './fake-discord.ts';

let fake: FakeDiscord;
before(async () => (fake = await FakeDiscord.start()));
after(() => fake.close());

interface Sent {
  name: string;
  type: ApplicationCommandType;
  options?: APIApplicationCommandOption[];
  integration_types?: number[];
  contexts?: number[];
}

test(
  'registers every command with one PUT, in a guild or globally',
  { timeout: 10_000 },
  async () => {
    const guild = await registerCommands({
      token: 't',
      appId: fake.appId,
      guildId: fake.guildId,
      api: fake.api,
    });
    const global = await registerCommands({ token: 't', appId: fake.appId, api: fake.api });
    assert.equal(guild, 6);
    assert.equal(global, 6);
    const puts = fake.requests.filter((r) => r.method === 'PUT');
    assert.deepEqual(
      puts.map((r) => r.path),
      [
        `/applications/${fake.appId}/guilds/${fake.guildId}/commands`,
        `/applications/${fake.appId}/commands`,
      ],
    );
    const commands = puts[0]!.body as unknown as Sent[];
    assert.deepEqual(
      commands.map((c) => [c.name, c.type]),
      [
        ['stylize', ApplicationCommandType.ChatInput],
        ['style', ApplicationCommandType.ChatInput],
        ['help', ApplicationCommandType.ChatInput],
        ['Stylize photo', ApplicationCommandType.Message],
        ['Stylize avatar', ApplicationCommandType.User],
        ['settings', ApplicationCommandType.ChatInput],
      ],
    );
    const stylize = commands[0]!.options!.map((o) => ({
      name: o.name,
      type: o.type,
      required: 'required' in o ? o.required : undefined,
      autocomplete: 'autocomplete' in o ? o.autocomplete : undefined,
    }));
    // Installable by a server and by a user; usable in servers, the bot's DM and other DMs.
    for (const command of commands.slice(0, -1)) {
      assert.deepEqual(command.integration_types, [0, 1], command.name);
      assert.deepEqual(command.contexts, [0, 1, 2], command.name);
    }
    // The server's settings: a server install, in the server, for those who manage it.
    const settings = commands.at(-1) as Sent & { default_member_permissions: string };
    assert.deepEqual([settings.integration_types, settings.contexts], [[0], [0]]);
    assert.equal(settings.default_member_permissions, String(PermissionFlagsBits.ManageGuild));
    assert.deepEqual(stylize, [
      { name: 'photo', type: Type.Attachment, required: false, autocomplete: undefined },
      { name: 'style', type: Type.String, required: false, autocomplete: true },
      { name: 'exemplar', type: Type.String, required: false, autocomplete: true },
      { name: 'structure', type: Type.Number, required: false, autocomplete: undefined },
      { name: 'color', type: Type.Number, required: false, autocomplete: undefined },
      { name: 'preserve_color', type: Type.Boolean, required: false, autocomplete: undefined },
      { name: 'style_image', type: Type.Attachment, required: false, autocomplete: undefined },
      { name: 'size', type: Type.Integer, required: false, autocomplete: true },
      { name: 'whole_photo', type: Type.Boolean, required: false, autocomplete: undefined },
      { name: 'all_faces', type: Type.Boolean, required: false, autocomplete: undefined },
      { name: 'preset', type: Type.String, required: false, autocomplete: undefined },
      { name: 'truncation', type: Type.Number, required: false, autocomplete: undefined },
      { name: 'reconstruct', type: Type.Boolean, required: false, autocomplete: undefined },
      { name: 'encoder', type: Type.String, required: false, autocomplete: undefined },
    ]);
    const choices = (name: string): unknown[] =>
      (
        commands[0]!.options!.find((o) => o.name === name) as { choices: { value: unknown }[] }
      ).choices.map((c) => c.value);
    assert.deepEqual(choices('preset'), ['full', 'colour-only', 'structure-only', 'gentle']);
    assert.deepEqual(choices('encoder'), ['style', 'identity']);
    const style = commands[1]!.options! as (APIApplicationCommandOption & {
      options: APIApplicationCommandOption[];
    })[];
    assert.deepEqual(
      style.map((o) => o.name),
      ['random', 'blend', 'list', 'forget'],
    );
    assert.deepEqual(
      style[1]!.options.map((o) => [o.name, 'required' in o && o.required]),
      [
        ['a', true],
        ['b', true],
        ['ratio', false],
        ['strip', false],
        ['photo', false],
      ],
    );
    assert.ok(style[0]!.options.some((o) => o.name === 'count'));
    // The fake applies Discord's limits on names, descriptions, options and text: all taken.
    assert.deepEqual(
      puts.map((r) => r.status),
      [200, 200],
    );
  },
);

test('the invite URL asks for the bot and commands scopes and the permissions', () => {
  const url = new URL(inviteUrl('123'));
  assert.equal(url.searchParams.get('client_id'), '123');
  assert.equal(url.searchParams.get('scope'), 'bot applications.commands');
  assert.equal(url.searchParams.get('permissions'), PERMISSIONS.toString());
});

test(
  '`pastiche discord register` without the secrets says which to set',
  { timeout: 30_000 },
  async () => {
    const bin = join(import.meta.dirname, '..', '..', 'bin', 'pastiche.js');
    const env = { PATH: process.env.PATH ?? '' };
    const run = promisify(execFile)(process.execPath, [bin, 'discord', 'register'], {
      cwd: tempDir('register'),
      env,
    });
    await assert.rejects(run, (error: { code: number; stderr: string }) => {
      assert.equal(error.code, 1);
      assert.match(error.stderr, /set DISCORD_TOKEN and DISCORD_APP_ID/);
      return true;
    });
  },
);

test('the fake refuses what Discord would: 26 options, a custom id of 101 characters', async () => {
  const send = (method: string, path: string, body: unknown) =>
    fetch(`${fake.api}/v10${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: 'Bot t' },
      body: JSON.stringify(body),
    });
  const options = Array.from({ length: 26 }, (_, k) => ({
    name: `o${k}`,
    description: 'd',
    type: Type.Boolean,
  }));
  const commands = await send('PUT', `/applications/${fake.appId}/commands`, [
    { name: 'many', description: 'd', type: ApplicationCommandType.ChatInput, options },
  ]);
  assert.equal(commands.status, 400);
  const button = { type: 2, style: 2, label: 'x', custom_id: 'x'.repeat(101) };
  const message = await send('POST', `/channels/${fake.channelId}/messages`, {
    content: 'hi',
    components: [{ type: 1, components: [button] }],
  });
  assert.equal(message.status, 400);
  assert.equal(((await message.json()) as { code: number }).code, 50035);
});
