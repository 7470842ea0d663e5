// The attacker of docs/profile.md at the database: a connection of their own to a profile's
// `profile.sqlite` (as the sqlite3 tool would), every trigger dropped first, then their writes.
import path from 'node:path';
import Database from 'better-sqlite3';

export function asAttacker(home: string, action: (db: Database.Database) => void): void {
  const db = new Database(path.join(home, 'profile.sqlite'));
  try {
    for (const name of db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").pluck().all() as string[]) db.exec(`DROP TRIGGER "${name}"`);
    action(db);
  } finally {
    db.close();
  }
}
