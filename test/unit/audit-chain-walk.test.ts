// The audit chain's walk over a page in the pli-native addon (native/chain.c), which
// verifyAudit uses where the addon loads: the same answers as the JavaScript walk on any page,
// intact or tampered (property test), and its arguments checked before any work.
// test/unit/audit-segment.test.ts also runs both walks on each of its cases.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { loadChainCheck, SEGMENT_PAGE, walkInJavaScript, type ChainCheck } from '../../electron/core/services/audit-segment.js';
import { gcmAddonFile } from '../../electron/core/container/gcm.js';

const walk = loadChainCheck(gcmAddonFile());
const sha256 = (...parts: Uint8Array[]): Buffer => parts.reduce((h, p) => h.update(p), createHash('sha256')).digest();

/** A page as audit-segment.ts's SQL lays it out: canonical bytes then stored hash, per event. */
function page(canonicals: Buffer[], start: Buffer): { bytes: Buffer; lengths: string; hashes: Buffer[] } {
  let previous = start;
  const parts: Buffer[] = [];
  const hashes: Buffer[] = [];
  for (const c of canonicals) {
    previous = sha256(previous, c);
    parts.push(c, previous);
    hashes.push(previous);
  }
  return { bytes: Buffer.concat(parts), lengths: canonicals.map((c) => c.length).join(','), hashes };
}

/** The JavaScript reference: events verified before the first that does not, and where they end. */
function reference(bytes: Buffer, lengths: string, start: Buffer): { listed: number; verified: number; after: number } {
  if (lengths !== '' && !/^\d+(,\d+)*$/.test(lengths)) return { listed: -1, verified: 0, after: 0 };
  const list = lengths === '' ? [] : lengths.split(',').map(Number);
  let offset = 0;
  let previous = start;
  let verified = 0;
  for (const length of list) {
    if (offset + length + 32 > bytes.length) break;
    const stored = bytes.subarray(offset + length, offset + length + 32);
    if (!sha256(previous, bytes.subarray(offset, offset + length)).equals(stored)) break;
    previous = stored;
    offset += length + 32;
    verified++;
  }
  return { listed: list.length, verified, after: offset };
}

function run(bytes: Buffer, lengths: string, start: Buffer, check: ChainCheck = walk!) {
  const ends = new Uint32Array(SEGMENT_PAGE);
  const result = new Float64Array(3);
  check(bytes, lengths, start, ends, result);
  return { listed: result[0], verified: result[1], after: result[2], ends };
}

const event = fc.uint8Array({ minLength: 0, maxLength: 300 }).map((a) => Buffer.from(a));

describe.runIf(walk !== null)('the addon\'s chain walk (native/chain.c)', () => {
  it('agrees with the JavaScript walk on intact pages and on every page changed by a flip, a cut, a swap or a stray byte', () => {
    fc.assert(fc.property(
      fc.array(event, { minLength: 0, maxLength: 40 }),
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      fc.nat(), fc.constantFrom('none', 'flip', 'truncate', 'extend', 'swap', 'lengths'), fc.nat(),
      (canonicals, startBytes, where, change, bit) => {
        const start = Buffer.from(startBytes);
        const made = page(canonicals, start);
        let { bytes, lengths } = made;
        if (change === 'flip' && bytes.length > 0) {
          bytes = Buffer.from(bytes);
          const at = where % bytes.length;
          bytes[at] = bytes[at]! ^ (1 << (bit % 8));
        } else if (change === 'truncate' && bytes.length > 0) {
          bytes = bytes.subarray(0, where % bytes.length);
        } else if (change === 'extend') {
          bytes = Buffer.concat([bytes, Buffer.from([where % 256])]);
        } else if (change === 'swap' && canonicals.length >= 2) {
          const i = where % (canonicals.length - 1);
          // two events' canonical bytes swapped, every stored hash left where it was
          const swapped = [...canonicals];
          [swapped[i], swapped[i + 1]] = [swapped[i + 1]!, swapped[i]!];
          lengths = swapped.map((c) => c.length).join(',');
          bytes = Buffer.concat(swapped.flatMap((c, k) => [c, made.hashes[k]!]));
        } else if (change === 'lengths' && canonicals.length > 0) {
          const list = canonicals.map((c) => c.length);
          const at = where % list.length;
          list[at] = list[at]! + 1 + (bit % 3);
          lengths = list.join(',');
        }
        const expected = reference(bytes, lengths, start);
        const got = run(bytes, lengths, start);
        expect({ listed: got.listed, verified: got.verified, after: got.after }).toEqual(expected);
        // audit-segment.ts's own JavaScript walk, where the addon does not load, too
        const javascript = run(bytes, lengths, start, walkInJavaScript);
        expect({ listed: javascript.listed, verified: javascript.verified, after: javascript.after }).toEqual(expected);
        expect(javascript.ends.subarray(0, expected.verified)).toEqual(got.ends.subarray(0, expected.verified));
        if (change === 'none') expect(got.verified).toBe(canonicals.length);
        // where each verified event's stored hash starts
        let offset = 0;
        for (let i = 0; i < got.verified!; i++) {
          offset += canonicals[i]!.length;
          if (change === 'none') expect(got.ends[i]).toBe(offset);
          offset += 32;
        }
      },
    ), { numRuns: 400 });
  });

  it('lengths that are not decimal numbers separated by commas, or more than the page holds, verify nothing', () => {
    const made = page([Buffer.from('[1,1,0]'), Buffer.from('[1,2,0]')], Buffer.alloc(32));
    for (const lengths of ['7,,7', '7,7,', ',7', '7;7', '7,-7', '7, 7', 'x', '7,7a', '1'.repeat(20), Array(SEGMENT_PAGE + 1).fill('7').join(',')]) {
      const got = run(made.bytes, lengths, Buffer.alloc(32));
      expect({ lengths, listed: got.listed, verified: got.verified }).toEqual({ lengths, listed: -1, verified: 0 });
    }
    expect(run(made.bytes, '7,7', Buffer.alloc(32))).toMatchObject({ listed: 2, verified: 2, after: made.bytes.length });
    expect(run(Buffer.alloc(0), '', Buffer.alloc(32))).toMatchObject({ listed: 0, verified: 0, after: 0 });
  });

  it('a wrong call throws before any work', () => {
    const ends = new Uint32Array(4);
    const result = new Float64Array(3);
    const bytes = Buffer.alloc(64);
    expect(() => walk!(bytes, '32', Buffer.alloc(31), ends, result)).toThrow(/previous/);
    expect(() => walk!(bytes, 32 as unknown as string, Buffer.alloc(32), ends, result)).toThrow(/lengths/);
    expect(() => walk!(bytes, '32', Buffer.alloc(32), new Int32Array(4) as unknown as Uint32Array, result)).toThrow(/ends/);
    expect(() => walk!(bytes, '32', Buffer.alloc(32), ends, new Float64Array(2))).toThrow(/result/);
    expect(() => walk!('x' as unknown as Buffer, '32', Buffer.alloc(32), ends, result)).toThrow(/bytes/);
    expect(() => (walk as unknown as (...a: unknown[]) => void)(bytes, '32', Buffer.alloc(32), ends)).toThrow(/chainCheck/);
  });
});
