// Outside text (names, e-mails, organisations, subjects, reasons, server messages) made safe to
// show. Pure functions, used by the core, the CLI and the renderer: no Node, DOM or Electron import.
//
// Invariant: what forTerminal returns holds no control character (C0, DEL, C1), no bidirectional
// or other format character (\p{Cf}), no line or paragraph separator and no lone surrogate, so a
// name can neither move the cursor, start an escape sequence (conceal, OSC 8 link, window title),
// forge a line, nor reverse the text around it. The same characters are refused in cards and
// certificates (hasHiddenCharacters); these functions are for what was stored before, or planted.

/** The characters that never reach a terminal or a screen as themselves. */
const HIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u;
const HIDDEN_ALL = new RegExp(HIDDEN.source, 'gu');

const codePoint = (c: string): string => `<U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}>`;

/** True when `s` holds a control, format (bidi, zero-width), separator or lone surrogate character. */
export function hasHiddenCharacters(s: string): boolean {
  return HIDDEN.test(s);
}

/** For a terminal: each hidden character as visible `<U+XXXX>` (the notation of refused file names). */
export function forTerminal(s: string): string {
  return s.replace(HIDDEN_ALL, codePoint);
}

/**
 * For the interface (React text; React already escapes HTML): C0 controls and DEL as their
 * U+2400-block control pictures (␀ … ␟, ␡), every other hidden character as `<U+XXXX>`.
 */
export function forScreen(s: string): string {
  return s.replace(HIDDEN_ALL, (c) => {
    const code = c.codePointAt(0)!;
    if (code <= 0x1f) return String.fromCodePoint(0x2400 + code);
    if (code === 0x7f) return '\u2421';
    return codePoint(c);
  });
}

/** For schema refinements: true when `s` holds only visible characters (and ordinary spaces). */
export const visibleOnly = (s: string): boolean => !hasHiddenCharacters(s);

/** A French phrase naming the refused value, escaped and shortened, and its hidden characters. */
export function hiddenIn(what: string, value: unknown): string {
  const text = String(value);
  const shown = Array.from(forTerminal(text));
  const found = [...new Set(Array.from(text).filter(hasHiddenCharacters).map(forTerminal))];
  return `${what} « ${shown.length > 120 ? `${shown.slice(0, 120).join('')}…` : shown.join('')} » contient des caractères de contrôle ou invisibles (${found.slice(0, 4).join(' ')}${found.length > 4 ? ' …' : ''})`;
}
