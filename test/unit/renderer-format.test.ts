// The interface's dates never throw (issue 12, item 1): every date it shows comes from the
// profile's database (the attacker's to write, docs/profile.md) or from outside, and `Intl` throws
// "Invalid time value" beyond JavaScript's dates, which took the Outbox, Audit and Directory screens
// into their error boundary for one bad row. The formatter is total (an unreadable date is shown
// in words), and no other renderer file turns a number into a date on its own.
import { describe, expect, it, beforeAll } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ReactElement } from 'react';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

type Format = { date: (ms: number | null | undefined) => string; day: (ms: number | null | undefined) => string };
let render: (language: 'fr' | 'en', use: (format: Format) => string) => Promise<string>;

beforeAll(async () => {
  const react = await import('react');
  // The test transform compiles JSX to React.createElement (the app's build uses the automatic runtime).
  (globalThis as { React?: unknown }).React = react;
  // Through variables: the Node typecheck (no JSX) must not follow the imports into the renderer.
  const common = '../../renderer/components/common.tsx';
  const setup = '../../renderer/i18n/index.ts';
  const { useFormat } = await import(/* @vite-ignore */ common) as { useFormat: () => Format };
  const { default: i18n } = await import(/* @vite-ignore */ setup) as { default: { changeLanguage: (l: string) => Promise<unknown> } };
  const { renderToStaticMarkup } = await import('react-dom/server');
  render = async (language, use) => {
    await i18n.changeLanguage(language);
    const Probe = (): ReactElement => react.createElement('span', null, use(useFormat()));
    return renderToStaticMarkup(react.createElement(Probe));
  };
});

/** Values a planted row, a forged header or a broken answer can carry. */
const UNREADABLE: (number | null | undefined)[] = [9e15, -9e15, 8.64e15 + 1, 2 ** 53 - 1, Number.MAX_VALUE, Infinity, -Infinity, NaN, null, undefined];

describe('useFormat: dates never throw', () => {
  it('an unreadable date is shown in words, in French and in English, by date and by day', async () => {
    for (const ms of UNREADABLE) {
      expect(await render('fr', (f) => f.date(ms)), String(ms)).toBe('<span>date illisible</span>');
      expect(await render('fr', (f) => f.day(ms)), String(ms)).toBe('<span>date illisible</span>');
      expect(await render('en', (f) => f.date(ms)), String(ms)).toBe('<span>unreadable date</span>');
      expect(await render('en', (f) => f.day(ms)), String(ms)).toBe('<span>unreadable date</span>');
    }
    // A string where a number was expected (a bridge or a build that lies about its types).
    expect(await render('fr', (f) => f.date('9e15' as unknown as number))).toBe('<span>date illisible</span>');
  });

  it('every date a Date holds is formatted, up to the very edges', async () => {
    const quarter = Date.UTC(2026, 9, 8, 10, 30);
    expect(await render('fr', (f) => f.day(quarter))).toBe('<span>8 octobre 2026</span>');
    expect(await render('en', (f) => f.day(quarter))).toBe('<span>8 October 2026</span>');
    expect(await render('fr', (f) => f.date(quarter))).toMatch(/^<span>8 oct\. 2026/);
    expect(await render('fr', (f) => f.day(8.64e15))).toMatch(/275760/);
    expect(await render('fr', (f) => f.day(-8.64e15))).not.toMatch(/illisible/);
    expect(await render('fr', (f) => f.date(0))).toMatch(/1970/);
  });
});

describe('no other renderer code turns a number into a date', () => {
  const files = (dir: string): string[] => readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? files(full) : /\.tsx?$/.test(name) ? [full] : [];
  });

  it('new Date, toLocale…String and Intl.DateTimeFormat only in the formatter of components/common.tsx', () => {
    const found: string[] = [];
    for (const file of files(path.join(ROOT, 'renderer'))) {
      readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
        const where = `${path.relative(ROOT, file)}:${i + 1}`;
        if (/^\s*(\/\/|\*)/.test(line)) return; // comments
        if (/new Date\(|\.toLocale(Date|Time)?String\(|\.toISOString\(|\.toUTCString\(|Intl\.DateTimeFormat\(/.test(line)) found.push(where);
      });
    }
    // The formatter itself: both calls behind isDateMs.
    expect(found.every((where) => where.startsWith(path.join('renderer', 'components', 'common.tsx'))), found.join('\n')).toBe(true);
    expect(found).toHaveLength(1);
  });
});
