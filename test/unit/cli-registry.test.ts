// The mailbox commands are registered by name and loaded on demand (electron/cli/pli.ts): the
// list of names must stay the same as the mail command table, or a command would vanish.
import { describe, it, expect } from 'vitest';
import { MAIL_COMMAND_NAMES, commands } from '../../electron/cli/pli.js';
import { mailCommands } from '../../electron/cli/mail.js';

describe('CLI command registry', () => {
  it('registers every mailbox command, lazily, and nothing else under those names', () => {
    expect([...MAIL_COMMAND_NAMES].sort()).toEqual(Object.keys(mailCommands).sort());
    for (const name of MAIL_COMMAND_NAMES) expect(typeof commands[name]).toBe('function');
  });
});
