// Containers (.pli files) handled directly: inspect, seal to a file, open into a folder.
import path from 'node:path';
import { inputError } from '../../core/errors.js';
import { getIdentity } from '../../core/profile/identities.js';
import { decrypt, encrypt, generateContainerPassword, inspect } from '../../core/services/containers.js';
import { hasAuthority } from '../../core/services/policy.js';
import { conventionChoices } from '../../core/services/convention-choices.js';
import { certificateOf } from '../views.js';
import { progress, withPassword, type Deps, type Impl } from './deps.js';
import type { ContainerSummary, ResponseOf } from '../../../shared/ipc.js';

export function containerChannels(deps: Deps) {
  const { session: s, shell, emitProgress, revealable, chosen } = deps;
  const openAt = containerOpener(deps);
  return {
    async 'containers:inspect'(request) {
      chosen.require([request.path]);
      const summary = await summaryOf(s, request.path);
      revealable.add(request.path);
      return summary;
    },

    async 'containers:encrypt'(request) {
      const active = s.require();
      chosen.require(request.files);
      const ctx = s.context();
      const day = new Date().toISOString().slice(0, 10);
      const out = await shell.saveFile({
        title: 'Enregistrer le pli chiffré', defaultName: `pli-${day}.pli`,
        filters: [{ name: 'Pli chiffré', extensions: ['pli'] }],
      });
      if (!out) return { status: 'cancelled' };
      s.still(active); // signed out while the dialog was open
      const resolved = path.resolve(out);
      if (request.files.some((f) => path.resolve(f) === resolved)) {
        throw inputError('out-is-input', 'Le pli ne peut pas remplacer un des fichiers à chiffrer : choisissez un autre nom.');
      }
      const password = request.password;
      const result = await encrypt(password === undefined ? ctx : withPassword(ctx, password), {
        as: active.id, to: request.to, self: request.self, usePassword: password !== undefined,
        files: request.files, out: resolved, onProgress: progress(emitProgress, request.opId, 'seal'),
      });
      emitProgress({ opId: request.opId, phase: 'done', done: 1, total: 1 });
      revealable.add(result.out);
      return { status: 'done', out: result.out, size: result.size, containerId: result.containerId, recipients: result.recipients, warnings: result.warnings };
    },

    async 'containers:generatePassword'() {
      s.require();
      return { password: generateContainerPassword() };
    },

    async 'containers:open'(request) {
      chosen.require([request.path]);
      return openAt(request.path, request);
    },

    // New container under a convention: what to offer (the send itself is outbox:send, checked by the core).
    async 'containers:conventionChoices'() {
      const active = s.require();
      return conventionChoices(s.context().profile.db, active.id);
    },
  } satisfies Partial<Impl>;
}

/** Opens the container at `input` (containers:open, and offered:open with main's own path). */
export function containerOpener({ session: s, shell, emitProgress, revealable }: Deps) {
  return async (input: string, request: { opId: string; password?: string | undefined }): Promise<ResponseOf<'containers:open'>> => {
    const active = s.require();
    const password = request.password;
    // A password container too is opened by the signed-in person: the core checks their role
    // and lends their keys as proof of the session (the actor of the events).
    const ctx = password === undefined ? s.context() : withPassword(s.context(), password);
    const outDir = await shell.chooseFolder({ title: 'Dossier où enregistrer les fichiers du pli' });
    if (!outDir) return { status: 'cancelled' };
    s.still(active);
    const result = await decrypt(ctx, {
      as: active.id, usePassword: password !== undefined, input, outDir,
      onProgress: progress(emitProgress, request.opId, 'open'),
    });
    emitProgress({ opId: request.opId, phase: 'done', done: 1, total: 1 });
    revealable.add(outDir);
    for (const file of result.files) revealable.add(file.path);
    return { status: 'done', containerId: result.containerId, senderId: result.senderId, senderName: result.senderName, outDir, files: result.files };
  };
}

/** A container's public header as the interface shows it (containers:inspect, offered:inspect). */
export async function summaryOf(s: Deps['session'], input: string): Promise<ContainerSummary> {
  const info = await inspect(input, s.exists() ? s.profile().home : undefined);
  const sender = s.exists() ? getIdentity(s.profile().db, info.senderId) : undefined;
  const senderCertificate = sender && hasAuthority(s.profile().db) ? certificateOf(s.profile().db, sender.id) : null;
  return {
    path: input, fileName: path.basename(input),
    containerId: info.containerId, senderId: info.senderId,
    senderName: sender?.name ?? null, senderOrg: sender?.org ?? null, senderKey: info.senderKey, senderCertificate,
    createdMs: info.createdMs, recipients: info.recipients, passwordProtected: info.passwordProtected,
    payloadBytes: info.payloadBytes, size: info.size,
  };
}
