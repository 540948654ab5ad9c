import type { VoteAuthentication } from '../../contracts/runbook-plan';
import type { VoteProof } from '../../contracts/runbook-status';

// Which proof a vote must carry, and whether the one it carries has the right shape, before the worker is
// asked to check it. Pure: the gate and abort handlers run these in the workflow.

const armor = '-----BEGIN SSH SIGNATURE-----';
const maxSignature = 16 * 1024;
const isoTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** In a drill the config may ask for another proof (approvals.drill.authentication); plans from before proofs asked none. */
export function effectiveAuthentication(gate: VoteAuthentication | undefined, mode: 'real' | 'drill', drill: VoteAuthentication | undefined): VoteAuthentication {
  return (mode === 'drill' ? drill : undefined) ?? gate ?? 'none';
}

/** How a person gives the proof, for a refusal they can act on. */
export function describeAuthentication(authentication: VoteAuthentication): string {
  switch (authentication) {
    case 'ssh':
      return 'an SSH signature (dr approve|reject|abort sign with your key: --key)';
    case 'totp':
      return 'a one-time code from your authenticator app ("code": "123456" in the Signal\'s payload, or dr … --code)';
    case 'ssh-or-totp':
      return 'an SSH signature (dr approve|reject|abort --key) or a one-time code ("code": "123456" in the Signal\'s payload)';
    case 'none':
      return 'no proof';
  }
}

/** Why the proof a message carries cannot be what the gate needs, or undefined when it is worth checking. */
export function proofRefusal(authentication: VoteAuthentication, proof: VoteProof): string | undefined {
  if (authentication === 'none') return undefined;
  const { signature, time, code } = proof as Record<string, unknown>;
  const sshAllowed = authentication !== 'totp';
  const codeAllowed = authentication !== 'ssh';
  if (signature !== undefined && sshAllowed) {
    if (typeof signature !== 'string' || signature.length > maxSignature || !signature.trimStart().startsWith(armor)) return `signature: must be an armored SSH signature (${armor} …), at most ${maxSignature} characters`;
    if (typeof time !== 'string' || !isoTime.test(time)) return 'time: a signed vote carries the time its statement was signed at, e.g. 2026-12-01T03:04:05.000Z';
    return undefined;
  }
  if (code !== undefined && codeAllowed) {
    if ((typeof code !== 'string' && typeof code !== 'number') || !/^\d{6,8}$/.test(String(code).replace(/ /g, ''))) return 'code: a one-time code is 6 digits, e.g. "492039"';
    return undefined;
  }
  if (signature !== undefined) return `this needs ${describeAuthentication(authentication)}; an SSH signature is not accepted here`;
  if (code !== undefined) return `this needs ${describeAuthentication(authentication)}; a one-time code is not accepted here`;
  return `no proof: a typed name proves nothing, this needs ${describeAuthentication(authentication)}`;
}

/** The armored signature without its line breaks and spaces: the same signature however it was wrapped. */
export function signatureIdentity(signature: string): string {
  return signature.replace(/\s+/g, '');
}
