// The roles an SSI authority certifies (docs/authority.md 3), declared once for the core (the
// certificates' schema, the checks of a role) and the interface (the IPC contract, the forms).
// Pure data: shared/ imports nothing from Node, Electron or the DOM.

/** The roles, as certificates spell them (their rank is RANK below). */
export const ROLES = ['officer', 'operator', 'reader'] as const;
export type Role = (typeof ROLES)[number];

const RANK: Record<Role, number> = { reader: 1, operator: 2, officer: 3 };

/** Whether a person holding `held` may do what needs `needed`. */
export const roleIncludes = (held: Role, needed: Role): boolean => RANK[held] >= RANK[needed];
