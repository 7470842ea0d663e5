// French typography of the interface (issue 15): every French string of renderer/i18n/fr.json
// follows the rules a French reader expects, checked here so that a new key cannot bring back a
// breaking space before a colon (which lets the colon wrap alone to the next line), a straight
// apostrophe, or a "(s)" form where i18next plurals (`_one` / `_other`) say it properly.
//   - a non-breaking space (U+00A0, or the narrow U+202F) before « : », « ; », « ! », « ? »
//     used as punctuation, and inside « guillemets »;
//   - the typographic apostrophe ’, never the straight ' ;
//   - no "(s)", "(e)", "(x)", "(es)" forms.
// Technical forms are not punctuation: "{{host}}:{{port}}", "10:30" (a colon followed by no space).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

type Tree = { [key: string]: string | Tree };

/** Every string of a translation tree with its dotted key. */
export function strings(tree: Tree, prefix = ''): [string, string][] {
  return Object.entries(tree).flatMap(([key, value]) => (typeof value === 'string'
    ? [[`${prefix}${key}`, value] as [string, string]]
    : strings(value, `${prefix}${key}.`)));
}

const NBSP = /[\u00a0\u202f]/;

/** What is wrong with one French string, in words (empty when it is right). */
export function typographyFaults(text: string): string[] {
  const faults: string[] = [];
  const chars = Array.from(text);
  chars.forEach((c, i) => {
    const before = chars[i - 1];
    const after = chars[i + 1];
    // Punctuation, not a technical colon: followed by a space, the end, or a closing sign.
    if (/[:;!?]/.test(c) && (after === undefined || /[\s)»’.,\]]/.test(after)) && !(before !== undefined && NBSP.test(before))) {
      faults.push(`« ${c} » sans espace insécable avant : …${chars.slice(Math.max(0, i - 12), i + 2).join('')}…`);
    }
    if (c === '«' && !(after !== undefined && NBSP.test(after))) faults.push(`« sans espace insécable après : …${chars.slice(i, i + 12).join('')}…`);
    if (c === '»' && !(before !== undefined && NBSP.test(before))) faults.push(`» sans espace insécable avant : …${chars.slice(Math.max(0, i - 12), i + 1).join('')}…`);
  });
  if (text.includes("'")) faults.push(`apostrophe droite ' (utiliser ’) : ${text.slice(Math.max(0, text.indexOf("'") - 12), text.indexOf("'") + 4)}`);
  const paren = /\p{L}\((s|e|x|es)\)/iu.exec(text);
  if (paren) faults.push(`forme « ${paren[0]} » (utiliser les pluriels _one / _other, ou tourner la phrase)`);
  return faults;
}

describe('typography of fr.json', () => {
  it('the checker finds each fault it promises, and accepts the right forms', () => {
    expect(typographyFaults('Erreur :')).toHaveLength(1);
    expect(typographyFaults('Erreur:')).toHaveLength(1);
    expect(typographyFaults('Qui êtes-vous ?')).toHaveLength(1);
    expect(typographyFaults('a ; b')).toHaveLength(1);
    expect(typographyFaults('« Envoyer »')).toHaveLength(2);
    expect(typographyFaults("l'annuaire")).toHaveLength(1);
    expect(typographyFaults('{{count}} pli(s)')).toHaveLength(1);
    expect(typographyFaults('habilité(e)')).toHaveLength(1);
    expect(typographyFaults('nouveau(x)')).toHaveLength(1);
    expect(typographyFaults('Erreur\u00a0:')).toEqual([]);
    expect(typographyFaults('Qui êtes-vous\u202f?')).toEqual([]);
    expect(typographyFaults('«\u00a0Envoyer\u00a0»')).toEqual([]);
    expect(typographyFaults('l’annuaire')).toEqual([]);
    expect(typographyFaults('{{protocol}} {{host}}:{{port}}')).toEqual([]);
    expect(typographyFaults('(pli ancien renvoyé\u202f?)')).toEqual([]);
    expect(typographyFaults('(pli ancien renvoyé ?)')).toHaveLength(1);
    expect(typographyFaults('(clé USB)')).toEqual([]);
  });

  it('every string of fr.json: non-breaking spaces, ’, « », no (s) forms', () => {
    const fr = JSON.parse(readFileSync(path.join(ROOT, 'renderer/i18n/fr.json'), 'utf8')) as Tree;
    const found = strings(fr).flatMap(([key, text]) => typographyFaults(text).map((fault) => `${key} : ${fault}`));
    expect(found, `${found.length} fautes de typographie dans fr.json`).toEqual([]);
  });
});

// ---- the CLI's and the core's French (u1-outbox) ------------------------------------------------
// The same rule for the sentences the `pli` command and the core's errors print: no "(s)", "(e)",
// "(x)", "(es)" form in a string literal or template of electron/cli/*.ts and electron/core/**/*.ts
// (a count takes `plural` of shared/french.ts; a person, a neutral wording). Comments are not
// read: the TypeScript parser gives the literals alone, so `detailOf(e)` in code is never taken.
import ts from 'typescript';
import { readdirSync } from 'node:fs';

const PAREN_FORM = /\p{L}\((?:s|e|x|es)\)/iu;

/** The text of every string literal and template part of a TypeScript source, with its line. */
export function literalsOf(source: string, name = 'source.ts'): { line: number; text: string }[] {
  const file = ts.createSourceFile(name, source, ts.ScriptTarget.Latest, true);
  const found: { line: number; text: string }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateHead(node) || ts.isTemplateMiddle(node) || ts.isTemplateTail(node)) {
      found.push({ line: file.getLineAndCharacterOfPosition(node.getStart()).line + 1, text: node.text });
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

function sourcesUnder(dir: string, deep: boolean): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return deep ? sourcesUnder(full, deep) : [];
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

describe('typography of the CLI and the core', () => {
  it('the literal reader takes strings and templates, not comments nor code', () => {
    const texts = literalsOf(`// un pli(s) en commentaire
const a = detailOf(e); /* fichier(s) */
const b = 'pli(s) reçu(s)';
const c = \`\${n} fichier(s) pour \${who} habilité(e)\`;
`).map((l) => l.text);
    expect(texts).toEqual(['pli(s) reçu(s)', '', ' fichier(s) pour ', ' habilité(e)']);
    expect(texts.filter((t) => PAREN_FORM.test(t))).toHaveLength(3);
    expect(PAREN_FORM.test('(clé USB)')).toBe(false);
    expect(PAREN_FORM.test('nouveau(x)')).toBe(true);
  });

  it('no "(s)", "(e)", "(x)" form in a string of electron/cli/*.ts or electron/core/**/*.ts', () => {
    const files = [...sourcesUnder(path.join(ROOT, 'electron/cli'), false), ...sourcesUnder(path.join(ROOT, 'electron/core'), true)];
    expect(files.length).toBeGreaterThan(50);
    const found = files.flatMap((file) => literalsOf(readFileSync(file, 'utf8'), file)
      .filter((l) => PAREN_FORM.test(l.text))
      .map((l) => `${path.relative(ROOT, file)}:${l.line} : ${l.text.trim().slice(0, 80)}`));
    expect(found, `${found.length} formes « (s) » à remplacer`).toEqual([]);
  });
});
