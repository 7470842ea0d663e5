// Issue 11, item 1: the audit trail has one owner, the core. The table below is every action the
// core can write and the file that writes it; it must match the code (a grep of the core) and the
// table of docs/audit.md, and neither front end (electron/cli, electron/ipc) may write an event,
// name an action or import the event-writing functions. The same operations through both front
// ends give the same events: test/cli/audit-owners.test.ts.
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CORE = path.join(ROOT, 'electron/core');

/** Every action the core writes, and where (relative to electron/core/). */
const ACTIONS: Record<string, string[]> = {
  'profile.created': ['services/workstation.ts'],
  'identity.created': ['services/workstation.ts'],
  'identity.exported': ['services/workstation.ts'],
  'identity.imported': ['services/workstation.ts'],
  'identity.certificate-installed': ['services/workstation.ts'],
  'identity.rotated': ['services/workstation.ts'],
  'directory.imported': ['services/workstation.ts'],
  'authority.created': ['authority/authority.ts'],
  'identity.certified': ['authority/authority.ts'],
  'identity.provisioned': ['authority/authority.ts'],
  'identity.revoked': ['authority/authority.ts'],
  'directory.exported': ['authority/authority.ts'],
  'convention.created': ['authority/convention.ts'],
  'convention.terminated': ['authority/convention.ts'],
  'convention.edited': ['authority/convention.ts'],
  'convention.imported': ['authority/convention-object.ts'],
  'retention.destroyed': ['authority/convention-retention.ts'],
  'retention.left': ['authority/convention-retention.ts'],
  'convention.printed': ['services/annex.ts', 'mail/register.ts', 'authority/retention-certificate.ts'],
  'login.succeeded': ['services/session.ts'],
  'login.failed': ['services/session.ts'],
  'login.locked-out': ['services/session.ts'],
  'login.refused': ['services/session.ts'],
  'session.closed': ['services/session.ts'],
  'settings.changed': ['services/session.ts'],
  'fingerprint.voice-verified': ['services/voice.ts'],
  'audit.verified': ['services/audit.ts'],
  'audit.exported': ['services/audit.ts'],
  'audit.anchored': ['services/audit.ts'],
  'audit.checkpoint-refused': ['services/audit.ts'],
  'container.sealed': ['services/containers.ts'],
  'container.opened': ['services/containers.ts'],
  'file.written': ['services/containers.ts'],
  'container.refused': ['mail/imap.ts', 'mail/inbox.ts', 'services/containers.ts'],
  'container.queued': ['mail/outbox.ts'],
  'container.sent': ['mail/outbox.ts'],
  'container.send-failed': ['mail/outbox.ts'],
  'container.received': ['mail/inbox.ts'],
  'inbox.purged': ['mail/inbox.ts'],
  'mailbox.settings-changed': ['mail/settings.ts'],
  'indicators.imported': ['indicators/store.ts'],
  'indicators.corrected': ['indicators/store.ts'],
  'indicators.mapping-set': ['indicators/store.ts'],
  // Pli objects: receipts and the pushed directory (docs/objects.md).
  'object.sent': ['mail/dispatch.ts', 'mail/objects.ts', 'mail/publish.ts', 'mail/receipts.ts'],
  'object.refused': ['mail/dispatch.ts'],
  'receipt.received': ['mail/receipts.ts'],
  'receipt.set-aside': ['mail/receipts.ts'],
  'directory.published': ['mail/publish.ts'],
  'directory.applied': ['mail/publish.ts'],
  'directory.ignored': ['mail/publish.ts'],
  'authority.contact-set': ['authority/authority.ts'],
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.join(e.parentPath, e.name));
}

/** An action named in code: an event's `action: '…'`, or the action argument of `audited(…)`. */
const ACTION_IN_CODE = /\baction: '([a-z-]+\.[a-z-]+)'|\baudited(?:<[^>]*>)?\(\s*\w+,\s*'([a-z-]+\.[a-z-]+)'/g;

function actionsIn(files: string[], base: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of files) {
    for (const match of readFileSync(file, 'utf8').matchAll(ACTION_IN_CODE)) {
      const action = (match[1] ?? match[2])!;
      const where = path.relative(base, file).split(path.sep).join('/');
      found.set(action, [...new Set([...(found.get(action) ?? []), where])].sort());
    }
  }
  return found;
}

describe('the audit trail has one owner: the core', () => {
  it('the core writes exactly the actions of the table, each from the file the table names', () => {
    const found = Object.fromEntries(actionsIn(sources(CORE), CORE));
    const table = Object.fromEntries(Object.entries(ACTIONS).map(([action, files]): [string, string[]] => [action, [...files].sort()]));
    expect(found).toEqual(table);
  });

  it('neither front end writes an event, names an action or imports the writers', () => {
    const frontEnds = [...sources(path.join(ROOT, 'electron/cli')), ...sources(path.join(ROOT, 'electron/ipc'))];
    const offences: string[] = [];
    for (const file of frontEnds) {
      const text = readFileSync(file, 'utf8');
      const where = path.relative(ROOT, file);
      for (const m of text.matchAll(ACTION_IN_CODE)) offences.push(`${where}: action ${m[1] ?? m[2]}`);
      if (/\bappendEvent\b/.test(text)) offences.push(`${where}: appendEvent`);
      if (/import\s*\{[^}]*\baudit(?:ed)?\b[^}]*\}\s*from\s*'[./]*core\/context\.js'/.test(text)) offences.push(`${where}: imports audit/audited`);
      if (/\bs\.audit(?:ed)?\(|\baudited\(/.test(text)) offences.push(`${where}: its own audited()`);
    }
    expect(offences).toEqual([]);
  });

  it('one audited(): only core/context.ts defines it', () => {
    const definers = [...sources(path.join(ROOT, 'electron')), ...sources(path.join(ROOT, 'shared'))]
      .filter((file) => /(?:function|const)\s+audited\b|\baudited\s*(?:<[^>]*>)?\s*\([^)]*\)\s*:\s*Promise/.test(readFileSync(file, 'utf8')))
      .map((file) => path.relative(ROOT, file).split(path.sep).join('/'));
    expect(definers).toEqual(['electron/core/context.ts']);
  });

  it('docs/audit.md lists every action, no more, each written by the core file the table names', () => {
    const doc = readFileSync(path.join(ROOT, 'docs/audit.md'), 'utf8');
    const section = doc.slice(doc.indexOf('### 1.1 Who writes what'), doc.indexOf('## 2. Hash chain'));
    const rows = [...section.matchAll(/^\| `([a-z-]+\.[a-z-]+)` \| ([^|]+) \|/gm)];
    expect(rows.map((r) => r[1]).sort()).toEqual(Object.keys(ACTIONS).sort());
    for (const [, action, writers] of rows) {
      for (const file of ACTIONS[action!]!) expect(writers, action).toContain(file);
    }
  });

  it('the lint rule forbids the front ends the writers (eslint.config.js)', async () => {
    const { ESLint } = await import('eslint');
    const eslint = new ESLint({ cwd: ROOT });
    const probe = "import { appendEvent } from '../core/profile/events.js';\nimport { audit, audited } from '../core/context.js';\nexport const writers = [appendEvent, audit, audited];\n";
    for (const file of ['electron/cli/probe.ts', 'electron/ipc/channels/probe.ts']) {
      const source = file.startsWith('electron/ipc/channels') ? probe.replaceAll("'../core/", "'../../core/") : probe;
      const [result] = await eslint.lintText(source, { filePath: path.join(ROOT, file) });
      const restricted = result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
      expect(restricted, file).toHaveLength(3);
      expect(restricted.join('\n')).toMatch(/Only the core writes audit events/);
    }
  }, 60_000);
});
