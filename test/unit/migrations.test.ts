// The profile's schema migrations (electron/core/profile/migrations/): listed in order 1..N, one
// file each, and the SQL of a shipped migration never changes — a profile created by an older Pli
// must end with the same schema as a new one. The hashes and the schema below were frozen from the
// migrations as they shipped (before the split into files); a new migration adds a line, never
// changes one.
import { afterAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS } from '../../electron/core/profile/migrations/index.js';
import { initProfile, type DB } from '../../electron/core/profile/profile.js';

const SHIPPED_SQL_SHA256: Record<number, string> = {
  1: 'c94521a409c17e054e017115d16b5cea1bfec5e4a49475e5b6c2066a5a33b936',
  2: 'bf00c6efe5f99a99535002908ec9898471cc3c19dc3216f9915e4ba55d862fb3',
  3: '6ee7ed139c8b5e4cf81f92d46f7744e50f25546962c3a10bdcaab168d5095a22',
  4: 'e4b20c70512f0b8e3345ec7c286ec8dcb15716aa75391b620a63d91fd96a90d6',
  5: 'bcc3f2e75f9e7a3903bf1102d39b20109b838e36edcaec1ffd8862ed43149e5c',
  6: '4d849fa095ceb7c5da9b834a24a2f38734d72193dd8149d851ce83fb1b9f3e8d',
  7: '41e426bd5b4d0f76044392f5499e02536a9160968627e73509258388a005a419',
  8: '471dd91504fa2270b71518264dbdfff4d18984bdccc8b80e64623d466d1d156b',
  9: '185d641334d002824164958f5104ca9a623feaad3a3ec5cfc70c2c4fde8704d0',
  10: 'f8f31c136002e175a7882d95628b58a80e59397a4d2a1f04d21956e1cd14999d',
  11: 'a9b49197c2fe286cddf6f581a09233f9732b4b43c83660bbab3cf106df1cdf0e',
  12: '2f994f637d07ff218fd03a74559915d4ac328c9983368e9417eaa40706b4bfbe',
  13: '70336fe960a53b2bb39ca678bae415b9f7c6a326400b1bc61a7f70522e3ca3c5',
  14: '886678efda1c9ea39def57c57b9d7909f6a069d587233f95c1bd9851fb08cfa1',
  15: '6e69c2a888102af327e6e205ca05dd125225e8a3038e75483b873a5618a4f3f7',
  16: 'ffca62818b9bc6d8bb4d4c68a26198779fc0df3b42a20b249d797419624a152b',
  17: '8a3a4e5a546a263c130bec0ef71831b5da332340f58167079a912786273f3863',
};
const here = import.meta.dirname;
const FROZEN = JSON.parse(readFileSync(path.join(here, 'migrations-schema.json'), 'utf8')) as { userVersion: number; objects: unknown[] };
const folder = path.resolve(here, '../../electron/core/profile/migrations');
const root = mkdtempSync(path.join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'pli-migrations-unit-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const schema = (db: DB) => db.prepare("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name").all();

describe('migrations', () => {
  it('are listed in order 1..N, without gap or repeat', () => {
    expect(MIGRATIONS.length).toBeGreaterThan(0);
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
  });

  it('are one file each, NNN-name.ts, whose number is its version, all of them in the list', () => {
    const files = readdirSync(folder).filter((f) => /^\d{3}-[a-z0-9-]+\.ts$/.test(f)).sort();
    expect(files.map((f) => Number(f.slice(0, 3)))).toEqual(MIGRATIONS.map((m) => m.version));
    for (const file of files) {
      expect(readFileSync(path.join(folder, file), 'utf8')).toContain(`version: ${Number(file.slice(0, 3))},`);
    }
  });

  it('never change once shipped', () => {
    for (const [version, sha] of Object.entries(SHIPPED_SQL_SHA256)) {
      const migration = MIGRATIONS.find((m) => m.version === Number(version));
      expect(migration, `migration ${version}`).toBeDefined();
      expect(createHash('sha256').update(migration!.sql, 'utf8').digest('hex'), `migration ${version}`).toBe(sha);
    }
  });

  it('a fresh profile ends at N, with the schema of the shipped migrations', () => {
    const { profile } = initProfile(path.join(root, 'fresh'));
    try {
      expect(profile.db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
      expect(schema(profile.db)).toEqual(FROZEN.objects);
      expect(FROZEN.userVersion).toBe(Object.keys(SHIPPED_SQL_SHA256).length);
    } finally {
      profile.close();
    }
  });

  it('applied in the order of the list, each in turn, give that same schema', () => {
    const db = new Database(':memory:');
    try {
      for (const m of MIGRATIONS) db.exec(m.sql);
      expect(schema(db)).toEqual(FROZEN.objects);
    } finally {
      db.close();
    }
  });
});
