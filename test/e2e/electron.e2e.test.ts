// The real desktop shell, when the Electron binary is on this machine (it cannot be downloaded on
// offline machines: then this file says so in one line and skips). Checks the hardening that only
// Electron can show: sandboxed renderer without Node, window.pli from the preload, CSP header.
import { afterAll, describe, expect, it } from 'vitest';
import { _electron, type ElectronApplication } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { electronBinary } from '../../scripts/electron-binary.js';

const ROOT = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
const executable = electronBinary();
if (!executable) console.log('skipped: no Electron binary');

describe.skipIf(!executable)('Electron shell', () => {
  let app: ElectronApplication | undefined;
  const home = mkdtempSync(path.join(os.tmpdir(), 'pli-electron-'));
  afterAll(async () => {
    await app?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('opens the first-run screen in a sandboxed, isolated window', async () => {
    app = await _electron.launch({ executablePath: executable!, args: [ROOT], env: { ...process.env, PLI_HOME: path.join(home, 'profil') } });
    const page = await app.firstWindow();
    await page.getByRole('heading', { level: 1, name: 'Bienvenue dans Pli' }).waitFor();
    expect(page.url()).toBe('app://pli/index.html');
    const exposed = await page.evaluate(() => ({
      pli: typeof (globalThis as Record<string, unknown>).pli,
      require: typeof (globalThis as Record<string, unknown>).require,
      process: typeof (globalThis as Record<string, unknown>).process,
    }));
    expect(exposed).toEqual({ pli: 'object', require: 'undefined', process: 'undefined' });
    // getLastWebPreferences() exists at run time but is undocumented (absent from electron.d.ts).
    const prefs = await app.evaluate(({ BrowserWindow }) => {
      type Prefs = { contextIsolation?: boolean; sandbox?: boolean; nodeIntegration?: boolean };
      const contents = BrowserWindow.getAllWindows()[0]!.webContents as unknown as { getLastWebPreferences?: () => Prefs | null };
      const p = contents.getLastWebPreferences?.() ?? null;
      return p ? { contextIsolation: p.contextIsolation, sandbox: p.sandbox, nodeIntegration: p.nodeIntegration } : null;
    });
    if (prefs) expect(prefs).toEqual({ contextIsolation: true, sandbox: true, nodeIntegration: false });
    // What the chosen files' rule rests on (electron/ipc/chosen.ts), which the test bridge cannot
    // show (its stand-in for webUtils gives a path to any name the test registers): a File the page
    // makes itself has no path, so main records nothing, and a path the page names is refused.
    const forged = await page.evaluate(async (target) => {
      const g = globalThis as unknown as { pli: Record<string, (request: unknown) => unknown>; File: new (parts: string[], name: string) => unknown };
      return { path: g.pli.pathForFile!(new g.File(['x'], 'secret.pli')), inspect: await g.pli.inspectContainer!({ path: target }) };
    }, path.join(home, 'secret.pli'));
    expect(forged).toMatchObject({ path: '', inspect: { ok: false, error: { kind: 'security', code: 'file-not-chosen' } } });
    // window.open is denied: no second window appears.
    await page.evaluate(() => (globalThis as unknown as { open(u: string): unknown }).open('https://example.org'));
    expect(app.windows().length).toBe(1);
  });
});
