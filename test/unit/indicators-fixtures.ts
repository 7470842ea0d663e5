// Synthetic states for the indicators tests (never real data): IS 101 and IST tables as a police
// service would send them, written as CSV (either separator, either encoding) or as a workbook.
import * as XLSX from '@e965/xlsx';

export interface Is101 { homicides: number; armes: number; violents: number; sansViolence: number; coups: number; cambriolages: number; vehicules: number; dans: number; accessoires: number }
export type Row = (string | number)[];

export function is101Rows(v: Is101, commune = 'Saint-Laurent-Blangy', period = '4e trimestre 2026'): Row[] {
  return [
    [`ÉTAT 4001 — IS 101 — ${commune}`],
    [`Période : ${period}`],
    [],
    ['Catégorie', 'Faits constatés'],
    ['Homicides', v.homicides],
    ['VOLS À MAIN ARMÉE', v.armes],
    ['Vols  violents sans arme', v.violents],
    ['Vols sans violence contre des personnes', v.sansViolence],
    ['Coups et blessures volontaires sur personnes de 15 ans et plus', v.coups],
    ['Cambriolages de logements', v.cambriolages],
    ['Vols de vehicules', v.vehicules],
    ['Vols dans les véhicules', v.dans],
    ['Vols d’accessoires sur véhicules', v.accessoires],
  ];
}

export function istRows(v: { integrite: number; biens: number; ordre: number }): Row[] {
  return [
    ['Indicateur statistique territorial (IST)'],
    ['Famille', 'Nombre de faits'],
    ["Atteintes à l'intégrité physique", v.integrite],
    ['Atteintes aux biens', v.biens],
    ['Atteintes à la paix et à la santé publiques', v.ordre],
  ];
}

const cp1252 = (text: string): Buffer => {
  // The few non-ASCII characters of the fixtures, as Windows-1252 writes them.
  const table: Record<string, number> = { é: 0xe9, è: 0xe8, É: 0xc9, À: 0xc0, à: 0xe0, '’': 0x92, '—': 0x97, ê: 0xea, ç: 0xe7 };
  return Buffer.from([...text].map((c) => (c.charCodeAt(0) < 0x80 ? c.charCodeAt(0) : table[c] ?? 0x3f)));
};

export function toCsv(rows: Row[], sep: ';' | ',', encoding: 'utf-8' | 'windows-1252'): Buffer {
  const cell = (c: string | number) => {
    const s = String(c);
    return s.includes(sep) || s.includes('"') ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const text = `${rows.map((r) => r.map(cell).join(sep)).join('\r\n')}\r\n`;
  return encoding === 'utf-8' ? Buffer.from(text, 'utf8') : cp1252(text);
}

export function toWorkbook(rows: Row[], bookType: 'xlsx' | 'ods' | 'xls'): Buffer {
  const book = XLSX.utils.book_new();
  XLSX.utils.book_append_sheet(book, XLSX.utils.aoa_to_sheet(rows), 'État');
  return XLSX.write(book, { type: 'buffer', bookType: bookType === 'xls' ? 'biff8' : bookType }) as Buffer;
}

/** The figures of a quarter, made up from its number so that every quarter differs. */
export const is101Of = (commune: number, q: number): Is101 => ({
  homicides: (q + commune) % 3, armes: q % 2, violents: 10 + q + commune, sansViolence: 1000 + 37 * q + 100 * commune, coups: 80 + 3 * q,
  cambriolages: 50 + q * commune, vehicules: 20 + q, dans: 40 + 2 * q + commune, accessoires: 5 + q,
});
export const istOf = (commune: number, q: number) => ({ integrite: 1200 + 11 * q + commune, biens: 3400 + 17 * q - commune, ordre: 70 + q });
export const QUARTERS = ['2025-T1', '2025-T2', '2025-T3', '2025-T4', '2026-T1', '2026-T2', '2026-T3', '2026-T4'];
export const COMMUNES = ['Saint-Laurent-Blangy', 'Achicourt'];
