// What every benchmark shares (bench/README.md, "The header and the targets"):
//   - machine(): the machine and the software it ran on, read once at start (CPU model and the
//     flags that decide crypto speed, cores, load average, Node/OpenSSL/libsodium versions);
//   - printHeader(): the same lines at the top of every benchmark's output;
//   - Targets: each target printed as passed/failed with its figure, then one closing line
//     `targets: N passed, N failed`; exitCode() is 2 when one failed (1 is left for errors);
//   - writeJson(): raw figures with the machine into bench/out/ (gitignored).
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// The flags that change what the streaming costs: AES and GHASH in hardware (aes, pclmulqdq,
// and their vector forms vaes, vpclmulqdq), the vector widths OpenSSL's and age's code paths pick
// (avx2, avx512*), and SHA-256 in hardware (sha_ni). ARM names the same things under "Features".
const X86_FLAGS = ['aes', 'pclmulqdq', 'vaes', 'vpclmulqdq', 'avx', 'avx2', 'avx512f', 'avx512vl', 'avx512bw', 'sha_ni', 'bmi2', 'adx'];
const ARM_FLAGS = ['aes', 'pmull', 'sha1', 'sha2', 'sha512', 'asimd', 'sve'];

/** The first processor's model and flags from /proc/cpuinfo (null where it does not exist). */
function cpuInfo() {
  let text = '';
  try {
    text = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    // not Linux: the model from Node, flags unknown
  }
  const field = (name) => text.match(new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm'))?.[1].trim() ?? null;
  const model = field('model name') ?? os.cpus()[0]?.model ?? 'unknown';
  const x86 = field('flags');
  const arm = x86 === null ? field('Features') : null;
  const present = new Set((x86 ?? arm ?? '').split(/\s+/).filter(Boolean));
  const wanted = x86 !== null ? X86_FLAGS : arm !== null ? ARM_FLAGS : [];
  const flags = x86 === null && arm === null ? null : Object.fromEntries(wanted.map((f) => [f, present.has(f)]));
  return { model, flags };
}

/** libsodium's own version string, from the build Pli loads (libsodium-wrappers-sumo). */
async function libsodiumVersion() {
  try {
    const { default: sodium } = await import('libsodium-wrappers-sumo');
    await sodium.ready;
    return sodium.sodium_version_string();
  } catch (error) {
    return `unknown (${error.message})`;
  }
}

/**
 * Which back-end the built Pli uses here, asked of its module in dist/ (`exported` is the function
 * that says): Argon2id (electron/core/crypto/argon2.ts: native, sodium-native, or wasm,
 * libsodium-wrappers-sumo, the fallback) and the chunks' AES-GCM (electron/core/container/gcm.ts:
 * addon, native/gcm.c built by npm ci, or node, Node's Cipher API, the fallback; PLI_GCM=node),
 * and the writer's and the reader's streams (addon, native/stream.c and native/reader.c, or
 * javascript; PLI_STREAM=js).
 */
async function builtBackend(module, exported) {
  try {
    return (await import(`../dist/electron/core/${module}.js`))[exported]();
  } catch {
    return 'unknown (not built)';
  }
}

/**
 * Whether this machine is a virtual machine that hands freed memory back to its host
 * (virtio-balloon free page reporting, feature bit 5 of the balloon device). There, the first
 * write into memory the host took back costs several times more than a write into memory the
 * guest kept: on a Firecracker VM here (2026-12-04), writing 1 GiB into tmpfs took 0.34 s or
 * 1.3-2.4 s, at random, depending on which pages the kernel handed out. Every command that writes
 * a large file pays it at random, age as well as Pli, so the large cells get noisy; a workstation
 * (no hypervisor) never pays it. `reportedKiB` is what the kernel has handed back so far, where it
 * says (a counter some kernels add under /sys/module/page_reporting), else null.
 */
export function freedMemoryReporting() {
  const base = '/sys/bus/virtio/drivers/virtio_balloon';
  let reporting = false;
  try {
    for (const device of readdirSync(base).filter((d) => d.startsWith('virtio'))) {
      // One character per feature bit, bit 0 first; VIRTIO_BALLOON_F_REPORTING is bit 5.
      if (readFileSync(path.join(base, device, 'features'), 'utf8')[5] === '1') reporting = true;
    }
  } catch {
    // no balloon device (a physical machine, or another hypervisor): nothing handed back
  }
  return { reporting, reportedKiB: reporting ? reportedKiB() : null, minFreeMs: reporting ? minFreeMs() : null };
}

/** page_reporting's min_free_ms, where this kernel has that parameter (not every kernel does),
 * else null: read as how long a page stays free before it may be handed back (ms). Set to 10000
 * for one run, the VM handed back a quarter as much and the large cells lost their noise
 * (bench/README.md, "Two writers, one spinning"). */
const minFreeMs = () => pageReporting('min_free_ms');

/** The kernel's count of freed memory handed back to the host, in KiB, or null where not shown. */
export const reportedKiB = () => pageReporting('reported_kib');

/** A number among page_reporting's parameters (some kernels add them), or null where absent. */
function pageReporting(name) {
  try {
    const v = Number(readFileSync(`/sys/module/page_reporting/parameters/${name}`, 'utf8').trim());
    return Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
}

/** The median of `xs` (the mean of the two middle values when their count is even). */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * How long a bare Node process (`node -e 0`) takes to start here, median of 5; and, where
 * NODE_EXTRA_CA_CERTS is set, the same without it. Node reads that file of certificates at every
 * start, before any code runs: on the machines of this project it names the system's whole list
 * (144 certificates), which adds 45-80 ms to every Node process, hence to every Pli command's
 * fixed cost, and to nothing of age's or gpg's. A workstation without it does not pay it.
 */
function nodeStart() {
  const once = (env) => {
    const started = process.hrtime.bigint();
    spawnSync(process.execPath, ['-e', '0'], { env, stdio: 'ignore' });
    return Number(process.hrtime.bigint() - started) / 1e6;
  };
  const typical = (env) => median([0, 1, 2, 3, 4].map(() => once(env)));
  const extraCa = process.env.NODE_EXTRA_CA_CERTS || null;
  const without = { ...process.env };
  delete without.NODE_EXTRA_CA_CERTS;
  return { ms: typical(process.env), extraCaCerts: extraCa, withoutExtraCaMs: extraCa ? typical(without) : null };
}

/**
 * How a benchmark runs Pli: as a user runs the `pli` command (node_modules/.bin/pli, `npm link`),
 * that is bin/pli.js itself, through its first line, which starts Node without NODE_EXTRA_CA_CERTS
 * (bin/pli.js says why); `node bin/pli.js` would pay for that variable. Windows has no such line:
 * there, through node. Returns the program and the arguments before Pli's own.
 */
export function pliCommand(bin) {
  return process.platform === 'win32' ? [process.execPath, [bin]] : [bin, []];
}

/** The machine, read once when a benchmark starts (the load average is the one at start). */
export async function machine() {
  const cpu = cpuInfo();
  const [load1, load5, load15] = os.loadavg();
  const m = {
    cpu: cpu.model,
    flags: cpu.flags,
    cores: os.cpus().length,
    availableParallelism: os.availableParallelism?.() ?? os.cpus().length,
    loadavgAtStart: { '1min': load1, '5min': load5, '15min': load15 },
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.versions.node,
    openssl: process.versions.openssl,
    libsodium: await libsodiumVersion(),
    argon2: await builtBackend('crypto/argon2', 'argon2Backend'),
    gcm: await builtBackend('container/gcm', 'gcmBackend'),
    sealStream: await builtBackend('container/gcm', 'sealStreamBackend'),
    openStream: await builtBackend('container/gcm', 'readerStreamBackend'),
    chainWalk: await builtBackend('services/audit', 'chainWalkBackend'),
    nodeStart: nodeStart(),
    freedMemory: freedMemoryReporting(),
    // Set by whoever runs the benchmark to play a CPU without some of these flags (bench/README.md,
    // "A CPU without SHA-NI"): OpenSSL (so Pli's AES-GCM and SHA-256) and Go (so age) then leave them unused.
    // (GODEBUG only when it names a cpu.* setting: it has many others, which mask nothing.)
    masked: { OPENSSL_ia32cap: process.env.OPENSSL_ia32cap ?? null, GODEBUG: /(^|,)cpu\./.test(process.env.GODEBUG ?? '') ? process.env.GODEBUG : null },
  };
  m.shaInHardware = shaInHardware(m);
  return m;
}

/**
 * Whether OpenSSL hashes SHA-256 in hardware here: the CPU has SHA-NI (x86) or the SHA-2
 * instructions (ARM's sha2), and OPENSSL_ia32cap does not mask them (its second word, after the
 * colon, is CPUID leaf 7's EBX, where SHA is bit 29; a leading ~ clears the bits given). null
 * where the flags are unknown. Without it, one SHA-256 stream runs at ~0.5 GB/s and format
 * version 1's signature digest takes a core for longer than age's whole command (bench/README.md,
 * "A CPU without SHA-NI").
 */
export function shaInHardware(m) {
  if (m.flags === null) return null;
  if (!(m.flags.sha_ni ?? m.flags.sha2 ?? false)) return false;
  const mask = m.masked?.OPENSSL_ia32cap;
  if (mask === null || mask === undefined || !('sha_ni' in m.flags)) return true;
  const second = mask.split(':')[1];
  if (second === undefined) return mask.trim() === '' ? false : true; // an empty value masks every feature
  const clear = second.startsWith('~');
  let bits;
  try {
    bits = BigInt(clear ? second.slice(1) : second || '0');
  } catch {
    return null; // not a number OpenSSL would read either
  }
  const sha = (bits >> 29n) & 1n;
  return clear ? sha === 0n : sha === 1n;
}

/** The load average over the last minute, to print beside the one at start. */
export const loadNow = () => os.loadavg()[0];

/** Whether the load average says the machine was busy (more than half its cores in use). */
export const busy = (load, cores) => load > cores / 2;

/** /proc/stat counts in clock ticks (USER_HZ, 100 on Linux almost everywhere). */
let ticksPerSecond = null;
function clockTicks() {
  if (ticksPerSecond === null) ticksPerSecond = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;
  return ticksPerSecond;
}

/**
 * The CPU seconds the whole machine has been busy (every core: user, nice, system, irq, softirq)
 * and those the hypervisor gave this machine's virtual CPUs to others (steal), from /proc/stat;
 * null where it does not exist. Read before and after a command, minus the CPU time the command
 * used, it tells how much else ran meanwhile: the load average cannot, since it counts the
 * benchmark's own commands.
 */
export function cpuTimes() {
  let line;
  try {
    line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  } catch {
    return null;
  }
  const [user, nice, system, , , irq, softirq, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
  const hz = clockTicks();
  return { busy: (user + nice + system + irq + softirq) / hz, steal: steal / hz };
}

/** The header lines every benchmark prints first; `extra` adds lines (tool versions...). */
export function printHeader(title, m, extra = []) {
  const flags = m.flags === null ? 'unknown' : Object.entries(m.flags).map(([f, on]) => (on ? f : `-${f}`)).join(' ');
  const load = m.loadavgAtStart;
  console.log(title);
  console.log(`CPU: ${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB; flags: ${flags}`);
  console.log(`Node ${m.node}, OpenSSL ${m.openssl}, libsodium ${m.libsodium}; ${m.platform}; Pli's Argon2id: ${m.argon2}, AES-GCM chunks: ${m.gcm}, writer's stream: ${m.sealStream}, reader's: ${m.openStream}, audit chain walk: ${m.chainWalk}`);
  console.log(`Load average at start: ${load['1min'].toFixed(2)} ${load['5min'].toFixed(2)} ${load['15min'].toFixed(2)} (1, 5, 15 min)${busy(load['1min'], m.cores) ? ': the machine is busy, expect noise' : ''}`);
  const start = m.nodeStart;
  if (start) {
    console.log(`Node's own start (node -e 0): ${start.ms.toFixed(0)} ms${start.extraCaCerts ? `; NODE_EXTRA_CA_CERTS is set (${start.extraCaCerts}): ${start.withoutExtraCaMs.toFixed(0)} ms without it, so every Node process here pays ${(start.ms - start.withoutExtraCaMs).toFixed(0)} ms that a workstation without it does not; the \`pli\` command does not (bin/pli.js's first line clears it), \`node bin/pli.js\` does` : ''}`);
  }
  const who = { OPENSSL_ia32cap: "OpenSSL's, so Pli's AES-GCM and SHA-256", GODEBUG: "Go's, so age's" };
  const masks = Object.entries(m.masked ?? {}).filter(([, v]) => v !== null).map(([k, v]) => `${k}=${v} (${who[k]})`);
  if (masks.length) console.log(`CPU features masked for this run: ${masks.join(', ')}; the flags above are the CPU's, the code masked leaves some unused`);
  if (shaInHardware(m) === false) {
    console.log('SHA-256 in hardware: no (no SHA-NI, or masked): one SHA-256 stream runs at ~0.5 GB/s, and format version 1\'s signature digest, '
      + 'one stream over every byte, then takes a core for longer than age\'s whole command: expect Pli\'s streaming targets to fail '
      + '(bench/README.md, "A CPU without SHA-NI"; docs/format.md section 11)');
  }
  if (m.freedMemory?.reporting) {
    const minFree = m.freedMemory.minFreeMs ?? null;
    const after = minFree === null ? '' : `, page_reporting's min_free_ms ${minFree}`;
    console.log(`Memory: this virtual machine hands freed memory back to its host (virtio-balloon free page reporting${after}): `
      + 'the first write into such memory costs several times more, to whichever command gets it, age as well as Pli; '
      + 'large cells are noisy (a workstation never pays this; bench/README.md, "Two writers, one spinning")');
  }
  for (const line of extra) console.log(line);
  console.log('');
}

/** The targets of one benchmark: checked, printed, counted. */
export class Targets {
  constructor() {
    this.list = [];
  }

  /** One target: `figure` is what is printed ("0.62 s"), `value` and `limit` go to the JSON. */
  check(name, value, limit, pass, figure) {
    this.list.push({ name, value, limit, status: pass ? 'passed' : 'failed', figure });
  }

  /** A target this run could not measure (--quick, fewer items): neither passed nor failed. */
  skip(name, limit, why) {
    this.list.push({ name, value: null, limit, status: 'not measured', figure: why });
  }

  get passed() {
    return this.list.filter((t) => t.status === 'passed').length;
  }

  get failed() {
    return this.list.filter((t) => t.status === 'failed').length;
  }

  /** Prints every target, then the closing line `targets: N passed, N failed`. */
  print() {
    console.log('\nTargets');
    const width = Math.max(...this.list.map((t) => t.status.length));
    for (const t of this.list) console.log(`  ${t.status.padEnd(width)}  ${t.name}: ${t.figure}`);
    console.log(`targets: ${this.passed} passed, ${this.failed} failed`);
  }

  /** 2 when a target failed, else 0 (1 is the exit code of an error, set by the caller). */
  exitCode() {
    return this.failed > 0 ? 2 : 0;
  }

  toJSON() {
    return { passed: this.passed, failed: this.failed, list: this.list };
  }
}

/** Writes raw figures to bench/out/<name>-<date>.json; returns the path, relative to the cwd. */
export function writeJson(name, data) {
  const dir = path.join(ROOT, 'bench', 'out');
  mkdirSync(dir, { recursive: true });
  const date = new Date().toISOString();
  const file = path.join(dir, `${name}-${date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify({ date, ...data }, null, 2)}\n`);
  return path.relative(process.cwd(), file);
}
