// The observatory's profile of the indicators tests (in process): Nadia (Communauté urbaine
// d'Arras) holds the authority, Paul Lefebvre (CPN d'Arras) is certified operator, then `certify`,
// and the « Observatoire » convention (IST, quarterly) ties the CPN to `party`. The context's actor
// is whoever signed in last through it.
import { initProfile, type Profile } from '../../electron/core/profile/profile.js';
import { createIdentity, newPersonCard } from '../../electron/core/profile/identities.js';
import { signIn } from '../../electron/core/services/session.js';
import { certifyCard, initAuthority } from '../../electron/core/authority/authority.js';
import { createConvention } from '../../electron/core/authority/convention.js';
import type { Context } from '../../electron/core/context.js';

export interface Observatory { profile: Profile; ctx: Context; convention: string; paul: string }

export async function observatoryProfile(home: string, passphrase: string, options: {
  party: { org: string; address: string };
  certify?: { name: string; email: string; org: string }[];
}): Promise<Observatory> {
  const { profile } = initProfile(home);
  const person = await createIdentity(profile.db, { name: 'Nadia Observatoire', email: 'obs@cu-arras.fr', org: "Communauté urbaine d'Arras" }, passphrase, { opslimit: 1, memlimitKib: 8 });
  let actor: string | null = null;
  const ctx: Context = { profile, actor: () => actor, unlocker: { unlock: async (row) => { const u = await signIn(profile, row, passphrase); actor = u.id; return u; } } };
  await initAuthority(ctx, 'SSI DIPN 62', person.id);
  const paul = (await certifyCard(ctx, (await newPersonCard({ name: 'Paul Lefebvre', email: 'cpn@interieur.gouv.fr', org: "CPN d'Arras" })).card, 'operator')).id;
  for (const other of options.certify ?? []) await certifyCard(ctx, (await newPersonCard(other)).card, 'operator');
  const convention = (await createConvention(ctx, {
    title: 'Observatoire', parties: [{ org: "CPN d'Arras", address: 'cpn@interieur.gouv.fr' }, options.party],
    people: [], types: 'csv,xlsx', schedule: 'quarterly:8', expect: ['IST'], start: '2025-01-01', years: 3,
  })).body.id;
  return { profile, ctx, convention, paul };
}
