// The audit segment worker (audit.ts starts two for a large log): opens the profile database
// read-only on its own connection, verifies its segment (audit-segment.ts), answers once.
// better-sqlite3 is loaded from the path the starting thread resolved (workerData), not bundled:
// it is a native module, and under vitest this file is bundled by esbuild (workers.ts); so is the
// pli-native addon, whose chain walk it uses where it loads.
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';
import { loadChainCheck, verifySegment, type SegmentJob, type SegmentResult } from './audit-segment.js';

/** `addon`: the pli-native addon's file (gcmAddonFile) for the chain walk, null for JavaScript's. */
export interface SegmentWorkerData { sqlitePath: string; addon: string | null; job: SegmentJob }
export type SegmentAnswer = SegmentResult;

if (!parentPort) throw new Error('audit-segment.worker.js runs only as a worker thread (audit.ts starts it); import its types only.');
const port = parentPort;
const { sqlitePath, addon, job } = workerData as SegmentWorkerData;
const Database = createRequire(sqlitePath)(sqlitePath) as typeof BetterSqlite3;
const conn = new Database(job.file, { readonly: true, fileMustExist: true });
try {
  port.postMessage(verifySegment(job, conn, loadChainCheck(addon)) satisfies SegmentAnswer);
} finally {
  conn.close();
}
