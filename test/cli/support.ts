// The real `pli` binary in a temporary folder, shared by the CLI test files: a runner that can
// shift the child's clock (a preloaded module moves Date.now and `new Date()`; the binary itself
// is unchanged), a pinned clock (one fixed day for the test process and its `pli` children), and
// assertions for success and for refusals with their exit code and one-line French message.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect, vi } from 'vitest';
import { newPersonCard } from '../../electron/core/profile/identities.js';

export const BIN = fileURLToPath(new URL('../../bin/pli.js', import.meta.url));

/**
 * Noon, local time, `n` calendar days after `day` (YYYY-MM-DD, a day of the workstation's calendar
 * as the product's today() reads it). What « n days later » means to Pli: `n × 24 h` is not that
 * across a daylight-saving change (from 00:30, 15 × 24 h across the autumn change is day 14 at
 * 23:30), nor from a run that began before midnight.
 */
export function noonAfter(day: string, n: number): number {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(y, m - 1, d + n, 12).getTime();
}

/** The clock offset (RunOptions.offsetMs) that puts a `pli` run at noon `n` days after `day`. */
export const daysAfter = (day: string, n: number): number => noonAfter(day, n) - Date.now();

/** The day the date-dependent CLI tests run on (10:00 local): inside the convention's first year, in its 2026-T4. */
export const PIN_DAY = '2026-12-03';

/** Pinned clock minus real clock (ms), while a file has pinned it; null when the clock is the real one. */
let pinnedShift: number | null = null;
let pinnedDay = '';

/**
 * Pins the test process's clock, and so its `pli` children's, to `day` (YYYY-MM-DD) at `hour` local
 * time: a test that reads « today » then reads the same day whatever the day it runs. Only Date is
 * faked (timers and promises keep running), and the pinned clock keeps moving with the real one, so
 * that successive runs stay in order.
 */
export function pinClock(day: string = PIN_DAY, hour = 10): void {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  vi.useRealTimers();
  pinnedShift = new Date(y, m - 1, d, hour).getTime() - Date.now();
  pinnedDay = day;
  repinClock();
}

/** Puts the pinned clock back (after a test faked or restored Date itself), where it would be had it run on. */
export function repinClock(): void {
  if (pinnedShift === null) throw new Error('repinClock: pinClock first');
  vi.useRealTimers();
  // shouldAdvanceTime: a frozen Date would stall deadline loops and give every child the same instant.
  vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true, advanceTimeDelta: 5 });
  vi.setSystemTime(vi.getRealSystemTime() + pinnedShift);
}

/** Back to the real clock. */
export function unpinClock(): void {
  vi.useRealTimers();
  pinnedShift = null;
  pinnedDay = '';
}

/** The pinned day (YYYY-MM-DD). */
export function PINNED_DAY(): string {
  if (pinnedShift === null) throw new Error('PINNED_DAY: pinClock first');
  return pinnedDay;
}

/** How far the test process's clock (pinned or faked by a test) is from the real one: its `pli` children (and the e2e pages) get the same shift. */
export const clockShiftMs = (): number => (vi.getMockedSystemTime() ? Math.round(Date.now() - vi.getRealSystemTime()) : 0);

export interface Run { code: number; stdout: string; stderr: string }
export interface RunOptions {
  env?: Record<string, string>;
  offsetMs?: number;
  /** Called with the child once started (a test that watches it while it runs). */
  onSpawn?: (child: ChildProcess) => void;
}

export function cliSandbox(prefix: string, passphrase: string) {
  const root = mkdtempSync(path.join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), prefix));
  const at = (name: string): string => path.join(root, name);
  const clock = at('clock.mjs');
  // Both Date.now and an argument-less Date move (the product reads « today » through either);
  // Date with arguments, Date.UTC, parse and instanceof are the real ones.
  writeFileSync(clock, `const offset = Number(process.env.PLI_TEST_CLOCK_OFFSET_MS || 0);
const RealDate = Date;
const realNow = RealDate.now.bind(RealDate);
const now = () => realNow() + offset;
globalThis.Date = new Proxy(RealDate, {
  construct: (target, args, newTarget) => Reflect.construct(target, args.length ? args : [now()], newTarget),
  apply: () => new RealDate(now()).toString(),
  get: (target, key, receiver) => (key === 'now' ? now : Reflect.get(target, key, receiver)),
});
`);

  function pli(home: string, args: string[], options: RunOptions = {}): Promise<Run> {
    // offsetMs is relative to the test process's clock (daysAfter reads it): pinned, the child adds the pin's shift.
    const offsetMs = Math.round(clockShiftMs() + (options.offsetMs ?? 0));
    const env: NodeJS.ProcessEnv = { ...process.env, PLI_PASSPHRASE: passphrase, PLI_TEST_CLOCK_OFFSET_MS: String(offsetMs) };
    delete env.PLI_HOME;
    delete env.PLI_NEW_PASSPHRASE;
    Object.assign(env, options.env);
    const argv = [...(offsetMs ? ['--import', pathToFileURL(clock).href] : []), BIN, '--home', at(home), ...args];
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
      options.onSpawn?.(child);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
  }

  /** Runs and expects success; returns the last line of stdout. */
  async function ok(home: string, args: string[], options?: RunOptions): Promise<string> {
    const run = await pli(home, args, options);
    expect(run.code, `pli ${args.join(' ')}\n${run.stderr}`).toBe(0);
    return run.stdout.trim().split('\n').pop() ?? '';
  }

  /** Runs and expects exit `code` with a `pli: ` message matching `words`. */
  async function refused(code: number, home: string, args: string[], words: RegExp, options?: RunOptions): Promise<Run> {
    const run = await pli(home, args, options);
    expect(run.code, `pli ${args.join(' ')}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`).toBe(code);
    expect(run.stderr).toMatch(/^pli: /m);
    expect(run.stderr).toMatch(words);
    return run;
  }

  /** A workstation `home` initialised with a person of its own (her keys on it); with `card`, her
   * card exported to that file of the sandbox, for the officer to certify. Returns her id. */
  async function person(home: string, name: string, email: string, org: string, card?: string): Promise<string> {
    await ok(home, ['init']);
    const id = await ok(home, ['id', 'new', '--name', name, '--email', email, '--org', org]);
    if (card) await ok(home, ['id', 'export', id, '--out', at(card)]);
    return id;
  }

  /** O's directory into d1.json, imported pinned on each [workstation, certificate file]'s
   * workstation, which then installs its person's certificate. */
  async function installDirectory(pin: string, installs: [home: string, cert: string][]): Promise<void> {
    await ok('O', ['directory', 'export', '--out', at('d1.json')]);
    await Promise.all(installs.map(async ([home, cert]) => {
      await ok(home, ['directory', 'import', at('d1.json'), '--pin', pin]);
      await ok(home, ['id', 'install', at(cert)]);
    }));
  }

  return { root, at, pli, ok, refused, person, installDirectory };
}

export type CliSandbox = ReturnType<typeof cliSandbox>;

// ---- Stopping a `pli` at a chosen moment, for the tests that signal or kill it ----------------
// A signal sent after a timer or a poll lands wherever pli happens to be on this machine at that
// moment (not begun yet, or already done on a fast one). Stopped (SIGSTOP) at a known point, pli
// is then signalled in exactly the state the test checked, whatever the machine's load.

/** The preloaded module that stops pli (test/cli/stop-after-plaintext.mjs). */
const STOP_SHIM = new URL('./stop-after-plaintext.mjs', import.meta.url).href;

/**
 * Node arguments and environment for a `pli` child (`node ...execArgv BIN ...`) that stops itself
 * (SIGSTOP) right after its first write of plaintext bytes to a file under `folder`; wait for it
 * with `untilStopped`, signal it, then SIGCONT it.
 */
export function stopAfterFirstPlaintext(folder: string): { execArgv: string[]; env: Record<string, string> } {
  return { execArgv: ['--import', STOP_SHIM], env: { PLI_TEST_STOP_UNDER: realpathSync(folder) } };
}

/** True once a temporary folder (`.pli-tmp-*`) in `out` holds part of the plaintext: a decryption caught mid-way. */
export function midWay(out: string): boolean {
  for (const name of existsSync(out) ? readdirSync(out) : []) {
    if (!name.startsWith('.pli-tmp-')) continue;
    try {
      if (readdirSync(path.join(out, name)).some((f) => statSync(path.join(out, name, f)).size > 0)) return true;
    } catch {
      // moved or removed meanwhile
    }
  }
  return false;
}

/**
 * The state letters (R, S, D, T...) of every thread of process `pid`, or null once it is gone. A
 * thread that ends between the listing and the reading of its state (the reader's pre-hashing
 * thread ends as the decryption starts) is left out: it is not the process ending.
 */
function threadStates(pid: number): string[] | null {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return null;
  }
  const states: string[] = [];
  for (const tid of tids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue;
    }
    states.push(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
  }
  return states;
}

/**
 * Resolves true once process `pid` is seen waiting on the SQLite database `dbFile`: the file open
 * among its descriptors and its main thread (where better-sqlite3 runs) asleep in nanosleep, which
 * is SQLite's busy handler between two tries of a lock (busy_timeout); Node's own idle wait is
 * epoll, never nanosleep. Resolves false if `exited` settles first.
 */
export async function untilWaitingOnDatabase(pid: number, dbFile: string, exited: Promise<unknown>, timeoutMs = 60_000): Promise<boolean> {
  let gone = false;
  void exited.then(() => (gone = true), () => (gone = true));
  const target = realpathSync(dbFile);
  const hasOpen = (): boolean => {
    try {
      return readdirSync(`/proc/${pid}/fd`).some((fd) => {
        try {
          return readlinkSync(`/proc/${pid}/fd/${fd}`) === target;
        } catch {
          return false; // closed meanwhile
        }
      });
    } catch {
      return false;
    }
  };
  const sleeping = (): boolean => {
    try {
      return readFileSync(`/proc/${pid}/wchan`, 'utf8').includes('nanosleep');
    } catch {
      return false;
    }
  };
  const deadline = Date.now() + timeoutMs;
  while (!gone) {
    if (sleeping() && hasOpen()) return true;
    if (Date.now() > deadline) throw new Error(`process ${pid} not seen waiting on ${dbFile} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return false;
}

/** Resolves once every thread of `pid` is stopped (state T in /proc); rejects if `exited` settles
 * first (the child ended without ever stopping) or after `timeoutMs`. */
export async function untilStopped(pid: number, exited: Promise<unknown>, timeoutMs = 60_000): Promise<void> {
  let gone = false;
  const ended = exited.then((v) => v, (e: unknown) => e);
  void ended.then(() => (gone = true));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = threadStates(pid);
    if (states && states.length > 0 && states.every((s) => s === 'T' || s === 't')) return;
    if (gone || !states) {
      // How it ended (exit code, signal, stderr when the caller's promise gives them): the reason to read.
      const how = await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, 5000, 'not closed after 5 s'))]);
      throw new Error(`process ${pid} ended without stopping: ${JSON.stringify(how)}`);
    }
    if (Date.now() > deadline) throw new Error(`process ${pid} not stopped after ${timeoutMs} ms (threads: ${states.join('')})`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

// The Saint-Laurent-Blangy convention set-up shared by the convention tests (CLI and browser):
// the SSI officer's profile O holds the authority; people are certified (a card: no key on any
// workstation) or provisioned (a key file imported on their workstation once it has the
// directory); the directory is exported from O and imported, pinned, on each workstation.
export const TOWN = 'Mairie de Saint-Laurent-Blangy';
export const CPN = "CPN d'Arras";
export const SLB_TITLE = 'Convention Saint-Laurent-Blangy — états statistiques';
/** The five habilitated people of the town hall: key, name, function. */
export const SLB_FIVE = [
  ['maire', 'Jean Morel', 'Maire'],
  ['adjoint', 'Sophie Bernard', 'Adjointe au maire chargée de la sécurité'],
  ['dgs', 'Claire Dumont', 'Directrice générale des services'],
  ['chef', 'Marc Petit', 'Chef du service des affaires générales'],
  ['agent', 'Luc Girard', 'Agent de la voirie publique'],
] as const;

/** `pli convention new` for the Saint-Laurent-Blangy convention (quarterly on the 8th, IS 101
 * and IST, from 1 January 2026 for one year, renewable four times), `people` as [id, function]. */
export function slbConventionArgs(people: [string, string][], options: { types?: string; extra?: string[] } = {}): string[] {
  return [
    'convention', 'new', '--title', SLB_TITLE,
    '--party', `${CPN}=cpn-arras@interieur.gouv.fr`, '--party', `${TOWN}=mairie@saint-laurent-blangy.fr`,
    ...people.flatMap(([id, fn]) => ['--person', `${id}=${fn}`]),
    '--types', options.types ?? '.doc,.xls,.csv,.pdf', '--schedule', 'quarterly:8', '--expect', 'IS 101', '--expect', 'IST',
    '--start', '2026-01-01', '--years', '1', '--renew-max', '4', ...(options.extra ?? []),
  ];
}

/** The officer, the authority and the workstations of a convention test, step by step. */
export function conventionSetUp(cli: CliSandbox, passphrase: string) {
  const { at, pli, ok } = cli;
  const keyImports: { home: string; key: string; oneTime: string }[] = [];
  let pin = '';
  return {
    /** The authority's pin (known once `start` ran). */
    get pin(): string { return pin; },
    /** O: the officer's identity and the authority; then each workstation's empty profile. Returns the officer's id. */
    async start(workstations: string[], org = 'DIPN du Pas-de-Calais'): Promise<string> {
      await ok('O', ['init']);
      const officer = await ok('O', ['id', 'new', '--name', 'Olivier Ssi', '--email', 'ssi@interieur.gouv.fr', '--org', org]);
      pin = await ok('O', ['authority', 'init', '--name', 'SSI DIPN 62']);
      for (const home of workstations) await ok(home, ['init']);
      return officer;
    },
    /** A person with a key for workstation `home` (imported by `distribute`). Returns the id. */
    async provision(key: string, name: string, org: string, role: string, home: string, email = 'fonctionnelle@exemple.fr'): Promise<string> {
      const run = await pli('O', ['authority', 'provision', '--name', name, '--email', email, '--org', org, '--role', role, '--out', at(`${key}.key`)]);
      expect(run.code, run.stderr).toBe(0);
      // The one-time passphrase is printed on stderr only, in groups of four.
      keyImports.push({ home, key, oneTime: /([0-9a-z]{4}(?:-[0-9a-z]{4}){5})/.exec(run.stderr)?.[1] ?? '' });
      return run.stdout.trim();
    },
    /** A person certified from a card made outside Pli (no key on any workstation). Returns the id. */
    async certify(key: string, name: string, org: string, role: string, email = 'fonctionnelle@exemple.fr'): Promise<string> {
      const card = await newPersonCard({ name, email, org });
      writeFileSync(at(`${key}.card`), card.card);
      await ok('O', ['authority', 'certify', at(`${key}.card`), '--role', role, '--out', at(`${key}.cert`)]);
      return card.id;
    },
    /** O's directory into d1.json, imported pinned on each workstation; then the provisioned keys. */
    async distribute(workstations: string[]): Promise<void> {
      await ok('O', ['directory', 'export', '--out', at('d1.json')]);
      for (const home of workstations) await ok(home, ['directory', 'import', at('d1.json'), '--pin', pin]);
      for (const { home, key, oneTime } of keyImports.splice(0)) {
        await ok(home, ['id', 'import-key', at(`${key}.key`)], { env: { PLI_PASSPHRASE: oneTime, PLI_NEW_PASSPHRASE: passphrase } });
      }
    },
  };
}

export type SlbKey = 'officer' | 'clerk' | (typeof SLB_FIVE)[number][0];

/** The town hall's workstation T with the Saint-Laurent-Blangy people: Claire Dumont (DGS)
 * provisioned on T, the CPN's statistics clerk and the four others certified, then `others`;
 * with `convention`, the convention of the five and the clerk (« Chargé des statistiques ») is
 * signed before the directory goes to T. */
export async function slbTownHall(cli: CliSandbox, passphrase: string, options: {
  names?: Partial<Record<SlbKey, string>>; clerkRole?: 'operator' | 'reader'; others?: [string, string, string][]; convention?: boolean;
} = {}): Promise<{ ids: Record<string, string>; pin: string; conventionId: string }> {
  const setUp = conventionSetUp(cli, passphrase);
  const name = (key: SlbKey, usual: string) => options.names?.[key] ?? usual;
  const ids: Record<string, string> = { officer: await setUp.start(['T']) };
  ids.dgs = await setUp.provision('dgs', name('dgs', 'Claire Dumont'), TOWN, 'operator', 'T', 'mairie@saint-laurent-blangy.fr');
  const certified: [string, string, string, string][] = [
    ['clerk', name('clerk', 'Paul Lefebvre'), CPN, options.clerkRole ?? 'operator'],
    ...SLB_FIVE.filter(([key]) => key !== 'dgs').map(([key, usual]) => [key, name(key, usual), TOWN, 'reader'] as [string, string, string, string]),
    ...(options.others ?? []).map(([key, who, org]) => [key, who, org, 'reader'] as [string, string, string, string]),
  ];
  for (const [key, who, org, role] of certified) ids[key] = await setUp.certify(key, who, org, role);
  const conventionId = options.convention
    ? await cli.ok('O', slbConventionArgs([...SLB_FIVE.map(([key, , fn]) => [ids[key]!, fn] as [string, string]), [ids.clerk!, 'Chargé des statistiques']]))
    : '';
  await setUp.distribute(['T']);
  return { ids, pin: setUp.pin, conventionId };
}
