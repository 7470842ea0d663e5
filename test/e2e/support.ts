// What every browser end-to-end file shares: where things are, how the app is opened in
// Chromium over the test bridge, how files are "picked", screenshots and common waits.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { bridgeClient, clientConfig, startBridge, type Bridge } from './bridge.js';
import { clockShiftMs, cliSandbox, slbTownHall } from '../cli/support.js';
import { startMailServers, type MailServers } from '../mail/harness.js';
import { initProfile, type Profile } from '../../electron/core/profile/profile.js';
import { createIdentity, newPersonCard, unlockIdentity } from '../../electron/core/profile/identities.js';
import { signIn as coreSignIn } from '../../electron/core/services/session.js';
import { certifyCard, initAuthority } from '../../electron/core/authority/authority.js';
import { createConvention } from '../../electron/core/authority/convention.js';
import type { Context } from '../../electron/core/context.js';
import { importState } from '../../electron/core/indicators/store.js';
import { COMMUNES, QUARTERS, is101Of, is101Rows, istOf, istRows, toCsv, toWorkbook } from '../unit/indicators-fixtures.js';

export const ROOT = path.resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const RENDERER = path.join(ROOT, 'dist-renderer');
export const SHOTS = path.join(ROOT, 'test', 'artifacts', 'screens');
export const CHROMIUM = '/usr/bin/chromium';

/** The built `pli` run to its end on profile `home` (it must be built: `npm run build`); its stdout, trimmed. */
export function pliSync(home: string, passphrase: string, args: string[]): string {
  const cli = path.join(ROOT, 'bin', 'pli.js');
  if (!existsSync(path.join(ROOT, 'dist', 'electron', 'cli', 'run.js'))) throw new Error('CLI not built: run "npm run build" first (npm run test:e2e does).');
  return execFileSync(process.execPath, [cli, '--home', home, ...args], { env: { ...process.env, PLI_PASSPHRASE: passphrase }, encoding: 'utf8' }).trim();
}

/** Checks that the interface is built, makes the screenshot folder, returns a fresh scratch folder. */
export function prepareRun(prefix: string, under = os.tmpdir()): string {
  if (!existsSync(path.join(RENDERER, 'index.html'))) throw new Error('dist-renderer/ missing: run "npm run build:renderer" first (npm run test:e2e does).');
  mkdirSync(SHOTS, { recursive: true });
  return mkdtempSync(path.join(under, prefix));
}

/** Debian's Chromium (never a downloaded one), headless, without background traffic. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** Closes the browser and the bridges, and deletes the scratch folder. */
export async function closeRun(browser: Browser | undefined, bridges: Bridge[], tmp: string | undefined): Promise<void> {
  await browser?.close();
  for (const bridge of bridges) await bridge.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}

/** Opens the built interface at 1280x800 on a bridge; console errors are collected (tests expect none). */
export async function openApp(browser: Browser, bridge: Bridge, consoleErrors: string[]): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  await page.addInitScript(bridgeClient, clientConfig(bridge));
  // A pinned test clock reaches the page too (the renderer reads Date for a certificate's expiry, the
  // idle lock): the same shift as the core's, Date only, as the `pli` children's shim does.
  const shift = clockShiftMs();
  if (shift) {
    await page.addInitScript((offset: number) => {
      const RealDate = Date;
      const now = () => RealDate.now() + offset;
      globalThis.Date = new Proxy(RealDate, {
        construct: (target, args: unknown[], newTarget) => Reflect.construct(target, args.length ? args : [now()], newTarget) as object,
        apply: () => new RealDate(now()).toString(),
        get: (target, key, receiver) => (key === 'now' ? now : Reflect.get(target, key, receiver) as unknown),
      });
    }, shift);
  }
  await page.goto(bridge.url);
  return page;
}

/** Sets files on an <input type=file> and tells the bridge client their real paths. */
export async function pick(page: Page, testId: string, files: string[]): Promise<void> {
  await page.evaluate((entries) => {
    const g = globalThis as unknown as { __pliTestPaths?: Record<string, string> };
    g.__pliTestPaths = { ...(g.__pliTestPaths ?? {}), ...Object.fromEntries(entries) };
  }, files.map((f) => [path.basename(f), f] as [string, string]));
  await page.getByTestId(testId).setInputFiles(files);
}

export const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
export const h1 = (page: Page, name: string) => page.getByRole('heading', { level: 1, name }).waitFor();
export const alertWith = (page: Page, text: string | RegExp) => page.getByRole('alert').filter({ hasText: text }).waitFor();

/** Waits (30 s) for a status with `text`, the first of those that have it; with `only`, the one
 * status that has it (a second one fails the wait: Playwright's strict mode). On a timeout, the error
 * names the statuses the screen shows instead and a screenshot is kept (`status-timeout-*.png`):
 * a wait that fails only in CI then says what it saw. It told apart the inbox's late list answer
 * (watcher-order.e2e.test.ts) from a slow watcher. */
export async function statusWith(page: Page, text: string | RegExp, { only = false } = {}): Promise<void> {
  const matching = page.getByRole('status').filter({ hasText: text });
  try {
    await (only ? matching : matching.first()).waitFor({ timeout: 30_000 });
  } catch (error) {
    const shown = await page.getByRole('status').allInnerTexts().catch(() => ['(unreadable)']);
    await shot(page, `status-timeout-${Date.now()}`).catch(() => undefined);
    throw new Error(`${(error as Error).message}\nStatuses shown instead: ${JSON.stringify(shown)}`, { cause: error });
  }
}

/** `statusWith`, where exactly one status may have the text. */
export const onlyStatusWith = (page: Page, text: string | RegExp) => statusWith(page, text, { only: true });

/** Signs in on the Connexion screen (choosing `name` when several people share the workstation). */
export async function signIn(page: Page, name: string, passphrase: string): Promise<void> {
  await h1(page, 'Connexion');
  const choice = page.getByRole('radio', { name: new RegExp(name) });
  if (await choice.count()) await choice.check();
  await page.getByLabel('Votre phrase de passe').fill(passphrase);
  await page.getByRole('button', { name: 'Se connecter' }).click();
}
export const nav = (page: Page, name: string) => page.getByRole('navigation').getByRole('button', { name }).click();

/** The browser start of a file whose profiles are made with the `pli` binary (one passphrase for
 * everyone): the CLI sandbox, a scratch folder `tmp`, Chromium, the bridges and the console errors. */
export function profilesRun(name: string, passphrase: string) {
  const cli = cliSandbox(`pli-e2e-${name}-`, passphrase);
  const run = {
    cli,
    tmp: '',
    browser: undefined as Browser | undefined,
    bridges: [] as Bridge[],
    consoleErrors: [] as string[],
    /** The scratch folder (the interface must be built), the profiles, then Chromium. */
    async start(makeProfiles: () => Promise<unknown>): Promise<void> {
      run.tmp = prepareRun(`pli-e2e-${name}-screens-`);
      await makeProfiles();
      run.browser = await launchChromium();
    },
    /** A bridge on profile `home` and the app opened on it. */
    async open(home: string): Promise<{ bridge: Bridge; page: Page }> {
      const bridge = await startBridge({ home: cli.at(home), rendererDir: RENDERER });
      run.bridges.push(bridge);
      return { bridge, page: await openApp(run.browser!, bridge, run.consoleErrors) };
    },
    signIn: (page: Page, who: string) => signIn(page, who, passphrase),
    async close(): Promise<void> {
      await closeRun(run.browser, run.bridges, run.tmp || undefined);
      rmSync(cli.root, { recursive: true, force: true });
    },
  };
  return run;
}

/** The Saint-Laurent-Blangy convention screens' profiles (test/cli/support.ts slbTownHall): the
 * officer's O signs the convention of the five and the CPN's clerk (certified as a reader), the
 * town hall's T imports it, Claire Dumont's key on T. */
export const slbTownHallForScreens = (cli: ReturnType<typeof cliSandbox>, passphrase: string) =>
  slbTownHall(cli, passphrase, { clerkRole: 'reader', convention: true });

/** Signs in on the Connexion screen as `name` (a radio among the workstation's people) and waits
 * for the first screen after it, « Plis reçus ». */
export async function signInToInbox(page: Page, name: string, passphrase: string): Promise<void> {
  await h1(page, 'Connexion');
  await page.getByRole('radio', { name: new RegExp(name) }).check();
  await page.getByLabel('Votre phrase de passe').fill(passphrase);
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await h1(page, 'Plis reçus');
}

// Light Argon2id for the people prepared with the core (the unlock reads the parameters stored with each).
const LIGHT = { opslimit: 1, memlimitKib: 8 };

/** A workstation prepared with the core: its profile, one person, a context that unlocks them. */
export interface Station { home: string; profile: Profile; ctx: Context; id: string }

/** The browser start of a file against the REAL mail servers (test/mail/harness.ts): a scratch
 * folder `tmp` (in /dev/shm when there is one), the servers and Chromium started together, the
 * bridges and the console errors; workstations made with the core. */
export function mailRun(name: string) {
  const run = {
    tmp: '',
    servers: undefined as MailServers | undefined,
    browser: undefined as Browser | undefined,
    bridges: [] as Bridge[],
    consoleErrors: [] as string[],
    async start(): Promise<{ tmp: string; servers: MailServers; browser: Browser }> {
      run.tmp = prepareRun(`pli-e2e-${name}-`, existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir());
      [run.servers, run.browser] = await Promise.all([startMailServers(), launchChromium()]);
      return { tmp: run.tmp, servers: run.servers, browser: run.browser };
    },
    /** The app opened on a bridge started by the caller. */
    openApp: (bridge: Bridge): Promise<Page> => openApp(run.browser!, bridge, run.consoleErrors),
    /** A workstation `<tmp>/<dir>` with one person, signed in once: the unlock attaches the
     * integrity key that directory imports need (docs/profile.md). */
    async station(dir: string, person: string, email: string, org: string, passphrase: string): Promise<Station> {
      const home = path.join(run.tmp, dir);
      const { profile } = initProfile(home);
      const created = await createIdentity(profile.db, { name: person, email, org }, passphrase, LIGHT);
      (await unlockIdentity(profile.db, created.id, passphrase)).wipe();
      return { home, profile, id: created.id, ctx: { profile, unlocker: { unlock: (row) => unlockIdentity(profile.db, row.id, passphrase) } } };
    },
    async close(): Promise<void> {
      await run.servers?.stop();
      await closeRun(run.browser, run.bridges, run.tmp || undefined);
    },
  };
  return run;
}

/** What an observatory's seeding gets: the signed-in context, who signed in, the convention's id
 * and Paul Lefebvre of the CPN d'Arras, certified as an operator (the figures' sender). */
export interface Observatory { ctx: Context; actor: string | null; convention: string; paul: { id: string; name: string } }

/**
 * The Indicateurs screens' profile at `home`: Nadia Observatoire of the Communauté urbaine
 * d'Arras, who holds the authority (SSI DIPN 62) and certified Paul Lefebvre; a quarterly
 * convention between the CPN and the Communauté urbaine expecting `expect`; then `seed` stores the
 * figures with the core (as the imports would have). The profile is closed afterwards.
 */
export async function observatory(home: string, passphrase: string, convention: { title?: string; expect: string[] }, seed: (o: Observatory) => Promise<void>): Promise<void> {
  const { profile } = initProfile(home);
  try {
    const person = await createIdentity(profile.db, { name: 'Nadia Observatoire', email: 'observatoire@cu-arras.fr', org: "Communauté urbaine d'Arras" }, passphrase, LIGHT);
    let actor: string | null = null;
    const ctx: Context = { profile, actor: () => actor, unlocker: { unlock: async (row) => { const u = await coreSignIn(profile, row, passphrase); actor = u.id; return u; } } };
    await initAuthority(ctx, 'SSI DIPN 62', person.id);
    const paul = await certifyCard(ctx, (await newPersonCard({ name: 'Paul Lefebvre', email: 'cpn@interieur.gouv.fr', org: "CPN d'Arras" })).card, 'operator');
    const id = (await createConvention(ctx, {
      title: convention.title ?? 'Observatoire de la délinquance', parties: [{ org: "CPN d'Arras", address: 'cpn@interieur.gouv.fr' }, { org: "Communauté urbaine d'Arras", address: 'observatoire@cu-arras.fr' }],
      people: [], types: 'csv,xlsx,ods,xls', schedule: 'quarterly:8', expect: convention.expect, start: '2025-01-01', years: 3,
    })).body.id;
    await seed({ ctx, actor, convention: id, paul });
  } finally {
    profile.close();
  }
}

/** An observatory (above) with three quarters of one commune's figures: the twelve indicators,
 * each with its chart and table (IS 101 in XLSX, IST in CSV). Its files are written in `dir`. */
export async function observatoryWithFigures(home: string, passphrase: string, dir: string): Promise<void> {
  await observatory(home, passphrase, { expect: ['IS 101', 'IST'] }, async ({ ctx, convention }) => {
    for (const [q, period] of QUARTERS.slice(0, 3).entries()) {
      for (const [name, bytes] of [[`is101-${period}.xlsx`, toWorkbook(is101Rows(is101Of(0, q), COMMUNES[0]!), 'xlsx')], [`ist-${period}.csv`, toCsv(istRows(istOf(0, q)), ';', 'windows-1252')]] as const) {
        const file = path.join(dir, name);
        writeFileSync(file, bytes);
        expect((await importState(ctx, { convention, period, commune: COMMUNES[0]!, file, container: `pli-${q}` })).recognised).toBe(true);
      }
    }
  });
}

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** WCAG AA contrast on the screen as it is (axe-core's color-contrast rule, as in layout.e2e). */
export async function contrast(page: Page, screen: string): Promise<void> {
  // Evaluated through the debugging protocol: the page's CSP (script-src 'self') does not apply.
  await page.evaluate(AXE);
  type Rule = { nodes: { target: unknown; failureSummary?: string }[] };
  const { violations, checked } = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: Rule[]; passes: Rule[] }> } }).axe;
    const result = await axe.run((globalThis as unknown as { document: unknown }).document, { runOnly: { type: 'rule', values: ['color-contrast'] } });
    return {
      violations: result.violations.flatMap((v) => v.nodes.map((n) => `${JSON.stringify(n.target)} ${n.failureSummary ?? ''}`)),
      checked: result.passes.reduce((sum, rule) => sum + rule.nodes.length, 0),
    };
  });
  expect(violations, `contrast on ${screen}`).toEqual([]);
  expect(checked, `texts checked on ${screen}`).toBeGreaterThan(5);
}
