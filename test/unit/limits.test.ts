// Issue 12, items 1 and 6: every value a container brings from outside is range-checked at parse
// against what the code does with it, and the writer refuses what a reader would refuse, with the
// same constants (electron/core/container/limits.ts).
import { describe, it, expect, beforeAll } from 'vitest';
import { readInfo } from '../../electron/core/container/open.js';
import { bufferSource } from '../../electron/core/container/sinks.js';
import { sealToBuffer, sealToFile } from '../../electron/core/container/seal.js';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PREAMBLE_BYTES } from '../../electron/core/container/format.js';
import {
  MAX_HEADER, MAX_RECIPIENTS, XWING_ENTRY_BYTES, CREATED_MIN_MS, CREATED_MAX_AHEAD_MS,
} from '../../electron/core/container/limits.js';
import { PliError } from '../../electron/core/errors.js';
import { isDateMs, isoOrNull } from '../../shared/dates.js';
import { makePerson, seal, sealParams, readerCallbacks, open, type TestPerson } from './helpers.js';

/** Byte offset of created_ms in a container file: preamble (16) + container_id (16). */
const CREATED = PREAMBLE_BYTES + 16;

async function refusal(action: () => Promise<unknown>): Promise<PliError> {
  try {
    await action();
  } catch (error) {
    if (error instanceof PliError) return error;
    throw error;
  }
  throw new Error('not refused');
}

/** A real container with its created_ms field rewritten (the signature no longer verifies). */
function withCreated(bytes: Buffer, value: bigint): Buffer {
  const forged = Buffer.from(bytes);
  forged.writeBigUInt64BE(value, CREATED);
  return forged;
}

describe('creation date window (format.md section 3)', () => {
  let alice: TestPerson;
  let bob: TestPerson;
  let container: Buffer;
  beforeAll(async () => {
    alice = await makePerson();
    bob = await makePerson();
    container = await seal(alice, [bob], [{ name: 'a.csv', data: Buffer.from('a;b\n') }]);
  });

  it('reads back the date the writer put at the documented offset', async () => {
    const info = await readInfo(bufferSource(container));
    expect(BigInt(info.header.createdMs)).toBe(container.readBigUInt64BE(CREATED));
  });

  it.each([
    ['9e15 (beyond JavaScript dates)', 9_000_000_000_000_000n],
    ['2^53 - 1', 2n ** 53n - 1n],
    ['8.64e15 + 1', 8_640_000_000_000_001n],
    ['2^64 - 1', 2n ** 64n - 1n],
    ['0 (1970)', 0n],
    ['the day before 2020-01-01', BigInt(CREATED_MIN_MS - 1)],
    ['eleven years ahead', BigInt(Date.now() + 11 * 366 * 24 * 3600 * 1000)],
  ])('a container dated %s is refused as malformed, saying why', async (_label, value) => {
    const error = await refusal(() => readInfo(bufferSource(withCreated(container, value))));
    expect(error.code).toBe('malformed');
    expect(error.kind).toBe('security');
    expect(error.message).toMatch(/date de création/);
    expect(error.message).not.toMatch(/Invalid time value/);
  });

  it('the window edges parse: 2020-01-01 and nine years ahead', async () => {
    for (const value of [CREATED_MIN_MS, Date.now() + CREATED_MAX_AHEAD_MS - 24 * 3600 * 1000]) {
      const info = await readInfo(bufferSource(withCreated(container, BigInt(value))));
      expect(info.header.createdMs).toBe(value);
      expect(isDateMs(info.header.createdMs)).toBe(true);
    }
  });

  it('the writer refuses a date a reader would refuse (a workstation clock far off)', async () => {
    for (const createdMs of [9e15, 0, CREATED_MIN_MS - 1]) {
      const error = await refusal(() => sealToBuffer([{ name: 'a.csv', data: Buffer.from('x') }], sealParams(alice, [bob], { createdMs })));
      expect(error.kind).toBe('input');
      expect(error.code).toBe('bad-clock');
      expect(error.message).toMatch(/date et l'heure de ce poste/);
    }
  });
});

describe('recipient count: the writer and the reader share one maximum', () => {
  it('the maximum is what fits in the reader header limit, entry by entry', () => {
    // 16 + 8 + 10 + 32 + 2 fixed bytes, 32 of commitment, 1203 per X-Wing entry, 1 MiB at most.
    expect(XWING_ENTRY_BYTES).toBe(1203);
    expect(MAX_RECIPIENTS).toBe(871);
    expect(68 + MAX_RECIPIENTS * XWING_ENTRY_BYTES + 32).toBeLessThanOrEqual(MAX_HEADER);
    expect(68 + (MAX_RECIPIENTS + 1) * XWING_ENTRY_BYTES + 32).toBeGreaterThan(MAX_HEADER);
  });

  it(`exactly the maximum seals and opens; one more is refused at sealing with the maximum and advice`, async () => {
    const sender = await makePerson();
    const people: TestPerson[] = [];
    for (let i = 0; i <= MAX_RECIPIENTS; i++) people.push(await makePerson());
    const files = [{ name: 'etat.csv', data: Buffer.from('IS101;T3\n') }];

    const atMax = await seal(sender, people.slice(0, MAX_RECIPIENTS), files);
    const headerLength = atMax.readUInt32BE(12);
    expect(headerLength).toBeLessThanOrEqual(MAX_HEADER);
    expect(headerLength).toBe(68 + MAX_RECIPIENTS * XWING_ENTRY_BYTES + 32);
    const info = await readInfo(bufferSource(atMax));
    expect(info.header.recipients).toHaveLength(MAX_RECIPIENTS);
    const last = people[MAX_RECIPIENTS - 1]!;
    const opened = await open(atMax, readerCallbacks(last, [sender]));
    expect(opened.map((f) => [f.name, f.data.toString()])).toEqual([['etat.csv', 'IS101;T3\n']]);

    const error = await refusal(() => sealToBuffer(files, sealParams(sender, people)));
    expect(error.kind).toBe('input');
    expect(error.code).toBe('too-many-recipients');
    expect(error.message).toContain(String(MAX_RECIPIENTS));
    expect(error.message).toContain(String(MAX_RECIPIENTS + 1));
    expect(error.message).toMatch(/Répartissez l'envoi en plusieurs plis/);

    // Refused before anything is written: no container, no partial file.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pli-limits-'));
    try {
      const input = path.join(dir, 'etat.csv');
      writeFileSync(input, 'IS101;T3\n');
      const toFile = await refusal(() => sealToFile([input], path.join(dir, 'out.pli'), sealParams(sender, people)));
      expect(toFile.code).toBe('too-many-recipients');
      expect(readdirSync(dir)).toEqual(['etat.csv']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('shared/dates: a stored number never throws on its way to a Date', () => {
  it('accepts what a Date holds and nothing else', () => {
    expect(isoOrNull(1_790_000_000_000)).toBe(new Date(1_790_000_000_000).toISOString());
    expect(isoOrNull(8.64e15)).toBe('+275760-09-13T00:00:00.000Z');
    for (const bad of [9e15, 2 ** 53 - 1, -9e15, Number.NaN, Infinity, null, undefined, '1790000000000']) {
      expect(isoOrNull(bad)).toBeNull();
      expect(isDateMs(bad)).toBe(false);
    }
  });
});
