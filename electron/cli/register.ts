// `pli register --convention ID [--year YYYY] --out FILE.pdf|FILE.csv` (issue 14 section 2,
// docs/convention.md section 10). Registered into the command table by pli.ts.
import { inputError } from '../core/errors.js';
import { resolveOwn } from '../core/profile/identities.js';
import { hasHolder } from '../core/profile/integrity.js';
import { refuseExistingFile } from '../core/pdf/new-file.js';
import { writeRegister } from '../core/mail/register.js';
import { context, err, out, parse, profileOf, required, str, type Handler } from './common.js';
import { agree, plural } from '../../shared/french.js';

export const REGISTER_USAGE = `Registre des échanges (docs/convention.md) :
  register --convention ID [--year AAAA] --out FICHIER.pdf|FICHIER.csv [--as ID]
                                               chaque pli envoyé et reçu dans l'année, avec ses accusés de réception ;
                                               CSV : séparateur « ; », UTF-8 avec BOM (tableur)`;

export const registerCommands: Record<string, Handler> = {
  async register(args) {
    const { values } = parse(args, { convention: { type: 'string' }, year: { type: 'string' }, out: { type: 'string' }, as: { type: 'string' } }, { min: 0, max: 0, name: 'aucun' });
    const id = required(values, 'convention');
    const target = required(values, 'out');
    const yearText = str(values, 'year') ?? String(new Date().getFullYear());
    if (!/^\d{4}$/.test(yearText)) throw inputError('usage', '--year attend une année de quatre chiffres, par exemple 2026.');
    refuseExistingFile(target); // before the sign-in: nothing asked nor done for a file that is there
    // The conventions and the inbox seals are checked with the integrity key in hand: a person
    // signs in first when the profile has a holder of it (docs/convention.md 4).
    const profile = profileOf(values);
    if (hasHolder(profile.db)) (await context(values).unlocker.unlock(resolveOwn(profile.db, str(values, 'as')))).wipe();
    const register = await writeRegister(context(values), id, Number(yearText), target);
    const sent = register.rows.filter((r) => r.direction === 'sent').length;
    err(`Registre ${register.year} écrit : ${plural(sent, 'pli envoyé', 'plis envoyés')}, ${register.rows.length - sent} ${agree(register.rows.length - sent, 'reçu')}.`);
    out(target);
  },
};
