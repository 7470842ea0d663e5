// Issue 15: a .pli handed to Pli from outside (double-click, second instance, macOS open-file).
// main passes the path to the IPC table (offerFile); the interface gets a reference and the file's
// name, never the path, and cannot make the table open anything else: a symlink planted with a
// .pli name, a relative path, another extension, an unknown reference are all refused.
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHandlers } from '../../electron/ipc/handlers.js';

const root = mkdtempSync(path.join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'pli-offered-unit-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function table() {
  let pings = 0;
  const handlers = createHandlers({
    home: path.join(root, 'profil'), emitProgress: () => undefined, emitMailEvent: () => undefined, emitOffered: () => { pings += 1; },
    shell: { openFile: async () => null, saveFile: async () => null, chooseFolder: async () => null, showInFolder: () => undefined },
  });
  return { handlers, pings: () => pings };
}

describe('a .pli handed to Pli from outside', () => {
  it('is kept by reference: the interface learns its name, never its path', async () => {
    const dir = path.join(root, 'telechargements');
    mkdirSync(dir);
    const file = path.join(dir, 'IS101-T4.pli');
    writeFileSync(file, 'pas un vrai pli');
    const { handlers, pings } = table();
    try {
      const ref = handlers.offerFile(file);
      expect(ref).toMatch(/^f[0-9a-f]{20}$/);
      expect(pings()).toBe(1);
      const listed = await handlers.invoke('offered:list', {});
      expect(listed).toEqual({ ok: true, value: { files: [{ ref, fileName: 'IS101-T4.pli' }] } });
      expect(JSON.stringify(listed)).not.toContain(dir);
      // Listed once: the interface shows it at once.
      expect(await handlers.invoke('offered:list', {})).toEqual({ ok: true, value: { files: [] } });
      // Inspecting reads the file main kept (here: not a container, refused as such), and the answer never carries the path.
      const inspected = await handlers.invoke('offered:inspect', { ref });
      expect(inspected.ok).toBe(false);
      expect(JSON.stringify(inspected)).not.toContain(dir);
    } finally {
      handlers.close();
    }
  });

  it('refuses what is not a regular .pli file at an absolute path, and references it never gave', async () => {
    const dir = path.join(root, 'pieges');
    mkdirSync(dir);
    const secret = path.join(dir, 'profile.sqlite');
    writeFileSync(secret, 'secret');
    symlinkSync(secret, path.join(dir, 'piege.pli'));
    mkdirSync(path.join(dir, 'dossier.pli'));
    writeFileSync(path.join(dir, 'notes.txt'), 'texte');
    const { handlers, pings } = table();
    try {
      for (const candidate of [path.join(dir, 'piege.pli'), path.join(dir, 'dossier.pli'), path.join(dir, 'notes.txt'), 'relatif.pli', path.join(dir, 'absent.pli')]) {
        expect(handlers.offerFile(candidate), candidate).toBeNull();
      }
      expect(pings()).toBe(0);
      const answer = await handlers.invoke('offered:inspect', { ref: 'f0123456789abcdef0123' });
      expect(answer.ok).toBe(false);
      if (!answer.ok) expect(answer.error.code).toBe('offered-gone');
      // A path in place of a reference does not pass the contract.
      const byPath = await handlers.invoke('offered:open', { opId: 'op-1', ref: secret });
      expect(byPath.ok).toBe(false);
      if (!byPath.ok) expect(byPath.error.code).toBe('bad-request');
    } finally {
      handlers.close();
    }
  });
});
