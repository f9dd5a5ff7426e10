/**
 * The forgetters adapters register: `forget` runs those of the caller's platform with the
 * platform's user id, an unregistered one no longer runs, and a failing one is no "Done".
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PlatformForgetters } from '../../src/commands/forget.ts';

const caller = { platform: 'slack', userId: 'U1', channelId: 'C1' } as const;

describe('platform forgetters', () => {
  it("runs the caller's platform's forgetters with its user id", async () => {
    const forgetters = new PlatformForgetters();
    const calls: string[] = [];
    forgetters.add('slack', async (user) => void calls.push(`slack ${user}`));
    forgetters.add('discord', async (user) => void calls.push(`discord ${user}`));
    await forgetters.forget(caller);
    assert.deepEqual(calls, ['slack U1']);
  });

  it('an unregistered forgetter no longer runs; the same function twice runs twice', async () => {
    const forgetters = new PlatformForgetters();
    let calls = 0;
    const forgetter = async () => void calls++;
    const remove = forgetters.add('slack', forgetter);
    forgetters.add('slack', forgetter);
    await forgetters.forget(caller);
    assert.equal(calls, 2);
    remove();
    await forgetters.forget(caller);
    assert.equal(calls, 3);
  });

  it('rejects when a forgetter fails', async () => {
    const forgetters = new PlatformForgetters();
    forgetters.add('slack', async () => {
      throw new Error('store down');
    });
    await assert.rejects(forgetters.forget(caller), /store down/);
  });
});
