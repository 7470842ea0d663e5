// What one receive round holds in memory at a time (docs/mailbox.md section 5): the small Pli parts
// of consecutive messages are fetched together only up to 16 MiB (inlineWindow); the test/mail
// poison tests play it against real Dovecot.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { inlineWindow, type PliPart } from '../../electron/core/mail/imap.js';

const MiB = 1024 * 1024;
const part = (n: number, size: number): PliPart => ({ part: String(n), name: `p${n}.pli`, size, type: 'application/octet-stream', encoding: 'base64' });
const message = (uid: number, sizes: number[]): { uid: number; parts: PliPart[] } => ({ uid, parts: sizes.map((s, i) => part(i + 2, s)) });
const bytes = (w: { messages: { parts: PliPart[] }[] }): number => w.messages.flatMap((m) => m.parts).reduce((n, p) => n + p.size, 0);

describe('inlineWindow', () => {
  it('takes whole messages up to 16 MiB of small parts, and leaves big parts to be streamed alone', () => {
    const messages = Array.from({ length: 12 }, (_, i) => message(i + 1, [1.9 * MiB]));
    const first = inlineWindow(messages, 0);
    expect(first.end).toBe(8);
    expect(first.messages.map((m) => m.uid)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const second = inlineWindow(messages, first.end);
    expect(second).toMatchObject({ end: 12 });
    expect(second.messages.map((m) => m.uid)).toEqual([9, 10, 11, 12]);
    // A part over 2 MiB is never fetched with others, and costs the window nothing.
    const mixed = inlineWindow([message(1, [50 * MiB, 1000]), message(2, [1000])], 0);
    expect(mixed).toEqual({ end: 2, messages: [{ uid: 1, parts: [part(3, 1000)] }, { uid: 2, parts: [part(2, 1000)] }] });
  });

  it('a message alone past the bound keeps its first parts up to it; the next message starts the next window', () => {
    const messages = [message(1, Array.from({ length: 100 }, () => 2 * MiB)), message(2, [10])];
    const first = inlineWindow(messages, 0);
    expect(first.end).toBe(1);
    expect(first.messages[0]!.parts.map((p) => p.part)).toEqual(['2', '3', '4', '5', '6', '7', '8', '9']);
    expect(inlineWindow(messages, 1)).toEqual({ end: 2, messages: [{ uid: 2, parts: [part(2, 10)] }] });
  });

  it('whatever the sizes: windows follow each other, hold at most 16 MiB, and always move on', () => {
    fc.assert(fc.property(fc.array(fc.array(fc.integer({ min: 0, max: 3 * MiB }), { maxLength: 30 }), { minLength: 1, maxLength: 60 }), (sizes) => {
      const messages = sizes.map((s, i) => message(i + 1, s));
      const seen: number[] = [];
      for (let from = 0; from < messages.length;) {
        const w = inlineWindow(messages, from);
        expect(w.end).toBeGreaterThan(from);
        expect(bytes(w)).toBeLessThanOrEqual(16 * MiB);
        expect(w.messages.map((m) => m.uid)).toEqual(messages.slice(from, w.end).map((m) => m.uid));
        for (const [i, m] of w.messages.entries()) {
          const small = messages[from + i]!.parts.filter((p) => p.size <= 2 * MiB);
          // Whole for all but a first message alone past the bound, which keeps a prefix.
          if (i > 0 || bytes({ messages: [{ parts: small }] }) <= 16 * MiB) expect(m.parts).toEqual(small);
          else expect(small.slice(0, m.parts.length)).toEqual(m.parts);
        }
        seen.push(...w.messages.map((m) => m.uid));
        from = w.end;
      }
      expect(seen).toEqual(messages.map((m) => m.uid));
    }));
  });
});
