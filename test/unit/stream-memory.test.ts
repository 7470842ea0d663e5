// Issue 13, the stream no slower than age: the chunks a cipher makes are freed as soon as they
// are written and hashed (discard.ts), not whenever the collector finds them; what is not the
// caller's alone to give is never touched.
import { describe, it, expect } from 'vitest';
import { discard, ownsMemory } from '../../electron/core/container/discard.js';

describe('discard', () => {
  it('frees buffers that own their memory at once, with no garbage collection', () => {
    const before = process.memoryUsage().arrayBuffers;
    const parts = Array.from({ length: 64 }, () => Buffer.alloc(1024 * 1024, 7));
    expect(process.memoryUsage().arrayBuffers - before).toBeGreaterThanOrEqual(60 * 1024 * 1024);
    discard(parts);
    expect(parts.every((p) => p.length === 0)).toBe(true);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1024 * 1024);
  });

  it('leaves alone a view that shares its memory (a slice, a small Buffer of Node’s pool)', () => {
    const whole = Buffer.alloc(256 * 1024, 1);
    const slice = whole.subarray(16, 1024);
    const pooled = Buffer.from('petit tampon du pool');
    expect(ownsMemory(slice)).toBe(false);
    expect(ownsMemory(pooled)).toBe(false);
    discard([slice, pooled]);
    expect(whole.length).toBe(256 * 1024);
    expect(slice.length).toBe(1008);
    expect(pooled.toString()).toBe('petit tampon du pool');
  });

  it('takes the same memory twice in one call without failing (two views of one buffer)', () => {
    const one = Buffer.alloc(128 * 1024);
    const again = Buffer.from(one.buffer, 0, one.byteLength);
    expect(() => discard([one, again])).not.toThrow();
    expect(one.length).toBe(0);
    expect(again.length).toBe(0);
  });
});
