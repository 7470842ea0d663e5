// Prepared statements kept per database connection for the receive path (issue 13: preparing the
// same SQL again for each of 200 containers cost ~0.7 ms a container). A statement is bound to its
// connection; a WeakMap lets a closed and forgotten connection take its statements with it.
// Callers never change a cached statement's mode (pluck, raw, expand): prepare those themselves.
import type { Statement } from 'better-sqlite3';
import type { DB } from '../profile/profile.js';

const byConnection = new WeakMap<DB, Map<string, Statement>>();

/** `db.prepare(sql)`, prepared once per connection. */
export function prepared(db: DB, sql: string): Statement {
  let statements = byConnection.get(db);
  if (!statements) byConnection.set(db, (statements = new Map()));
  let statement = statements.get(sql);
  if (!statement) statements.set(sql, (statement = db.prepare(sql)));
  return statement;
}
