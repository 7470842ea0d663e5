// The audit segment worker (audit.ts starts two for a large log): opens the profile database
// read-only on its own connection, verifies its segment (audit-segment.ts), answers once.
// better-sqlite3 is loaded from the path the starting thread resolved (workerData), not bundled:
// it is a native module, and under vitest this file is bundled by esbuild (workers.ts).
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';
import { verifySegment, type SegmentJob, type SegmentResult } from './audit-segment.js';

export interface SegmentWorkerData { sqlitePath: string; job: SegmentJob }
export type SegmentAnswer = SegmentResult;

if (!parentPort) throw new Error('audit-segment.worker.js runs only as a worker thread (audit.ts starts it); import its types only.');
const port = parentPort;
const { sqlitePath, job } = workerData as SegmentWorkerData;
const Database = createRequire(sqlitePath)(sqlitePath) as typeof BetterSqlite3;
const conn = new Database(job.file, { readonly: true, fileMustExist: true });
try {
  port.postMessage(verifySegment(job, conn) satisfies SegmentAnswer);
} finally {
  conn.close();
}
