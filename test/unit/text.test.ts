import { describe, expect, it } from 'vitest';
import type { ReactElement } from 'react';
import { forScreen, forTerminal, hasHiddenCharacters } from '../../shared/text.js';
import { printable } from '../../electron/core/container/manifest.js';

// Every character that must never reach a terminal or a screen as itself.
const HOSTILE = [
  '\x00', '\x07', '\t', '\n', '\r', '\x1b', '\x1f', '\x7f', '\x80', '\x85', '\x9b', '\x9f',
  '\u061c', '\u200b', '\u200e', '\u200f', '\u202a', '\u202b', '\u202c', '\u202d', '\u202e',
  '\u2066', '\u2067', '\u2068', '\u2069', '\u2028', '\u2029', '\ufeff', '\ud800',
];
// No C0/C1/DEL, no bidi or format character, no separators (listed by hand, not \p classes:
// the test must not share the implementation's definition).
// eslint-disable-next-line no-control-regex
const RAW = /[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069\ufeff\ud800-\udfff]/;

describe('forTerminal', () => {
  it('shows each control, bidi and format character as <U+XXXX> and nothing raw stays', () => {
    for (const c of HOSTILE) {
      const shown = forTerminal(`a${c}b`);
      expect(shown).toBe(`a<U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}>b`);
      expect(shown).not.toMatch(RAW);
    }
  });

  it('defuses the forged row, conceal, OSC 8 link, window title and right-to-left override', () => {
    const name = 'Eve\r\nABCD  personnelle     Officier SSI <ssi@police.fr>  DIPN  certificat : valide\x1b[8m\x1b]8;;http://x\x07lien\x1b]8;;\x07\x1b]0;titre\x07\u202eexe.fdp';
    const shown = forTerminal(name);
    expect(shown).not.toMatch(RAW);
    expect(shown).toContain('Eve<U+000D><U+000A>ABCD');
    expect(shown).toContain('<U+001B>[8m<U+001B>]8;;http://x<U+0007>');
    expect(shown).toContain('<U+202E>exe.fdp');
  });

  it('leaves ordinary French text, accents, emoji and non-Latin names unchanged', () => {
    for (const s of ['Élodie Lefèvre-N\'Diaye', 'Mairie de Saint-Étienne (42)', 'police@nancy.fr', 'مريم', '李雷', 'Zoë 🙂', 'a b']) {
      expect(forTerminal(s)).toBe(s);
      expect(forScreen(s)).toBe(s);
      expect(hasHiddenCharacters(s)).toBe(false);
    }
  });

  it('uses the notation of refused file names (container/manifest printable)', () => {
    const s = 'x\u202e\x1b\r\ny\u200b';
    expect(forTerminal(s)).toBe(printable(s));
  });
});

describe('forScreen', () => {
  it('maps C0 and DEL to control pictures, the others to <U+XXXX>', () => {
    expect(forScreen('a\x1bb')).toBe('a\u241bb');
    expect(forScreen('\r\n\t\x00')).toBe('\u240d\u240a\u2409\u2400');
    expect(forScreen('\x7f')).toBe('\u2421');
    expect(forScreen('\x9b')).toBe('<U+009B>');
    expect(forScreen('\u202eexe.fdp')).toBe('<U+202E>exe.fdp');
    for (const c of HOSTILE) expect(forScreen(`a${c}b`)).not.toMatch(RAW);
  });
});

describe('hasHiddenCharacters', () => {
  it('is true for every hostile character', () => {
    for (const c of HOSTILE) expect(hasHiddenCharacters(`nom${c}`), JSON.stringify(c)).toBe(true);
  });
});

describe('<Outside> (renderer)', () => {
  it('renders a hostile name with visible symbols, nothing hidden or direction-changing', async () => {
    const react = await import('react');
    // The test transform compiles JSX to React.createElement (the app's build uses the automatic runtime).
    (globalThis as { React?: unknown }).React = react;
    // Through a variable: the Node typecheck (no JSX) must not follow the import into the renderer.
    const component = '../../renderer/components/common.tsx';
    const { Outside } = await import(/* @vite-ignore */ component) as { Outside: (props: { text: string | null }) => ReactElement };
    const { renderToStaticMarkup } = await import('react-dom/server');
    const { createElement } = react;
    const html = renderToStaticMarkup(createElement(Outside, { text: 'Eve\r\n\x1b[8m<b>\u202eexe.fdp\u200b' }));
    expect(html).toBe('Eve\u240d\u240a\u241b[8m&lt;b&gt;&lt;U+202E&gt;exe.fdp&lt;U+200B&gt;');
    expect(renderToStaticMarkup(createElement(Outside, { text: null }))).toBe('');
  });
});
