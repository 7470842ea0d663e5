/** One schema migration: the `user_version` it brings the database to, and the SQL that does it. */
export interface Migration {
  readonly version: number;
  readonly sql: string;
}
