import { createHash, createHmac, createPrivateKey, createPublicKey, sign, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from './audit-hash';
import type { ObjectStore } from './ports/object-store';
import type { SecretStore } from './ports/secret-store';

/*
 * The head of a runbook's audit trail: its last seq and that row's hash, signed with a key the control
 * database never holds, and published outside it (the object store; S3 Object Lock where configured).
 * A superuser of the database can edit a row and recompute the whole hash chain, or delete the last rows:
 * the chain alone cannot tell, the head can (its seq and hash no longer match what the table holds).
 *
 *   signed text = RFC 8785 JSON of {"at": …, "hash": …, "kind": "dr-runbooks audit head v1", "seq": …, "workflow_id": …}
 *   signature   = Ed25519 over it (verify with the public key), or HMAC-SHA256 (with the key), base64
 *
 * One object per head, never overwritten: audit/heads/<workflow id>/<seq, 10 digits>.json, so deleting rows
 * would need deleting head objects too, which Object Lock forbids. The newest head is the highest seq.
 */

export interface AuditHead {
  workflowId: string;
  seq: number;
  hash: string;
  /** When it was signed (ISO 8601). */
  at: string;
  signer: { kind: 'ed25519' | 'hmac'; keyId: string };
  signature: string;
}

export interface AuditHeadSigner {
  readonly kind: 'ed25519' | 'hmac';
  keyId(): Promise<string>;
  sign(text: string): Promise<string>;
  verify(text: string, signature: string): Promise<boolean>;
}

const headKind = 'dr-runbooks audit head v1';
const headsPrefix = 'audit/heads/';

export function signedHeadText(head: Pick<AuditHead, 'workflowId' | 'seq' | 'hash' | 'at'>): string {
  return canonicalJson({ kind: headKind, workflow_id: head.workflowId, seq: head.seq, hash: head.hash, at: head.at });
}

/** Where a workflow's heads are kept (the id made safe for a key, reversibly). */
export function headKeyPrefix(workflowId: string): string {
  return `${headsPrefix}${encodeURIComponent(workflowId)}/`;
}

export function headKey(workflowId: string, seq: number): string {
  return `${headKeyPrefix(workflowId)}${String(seq).padStart(10, '0')}.json`;
}

/** Workflow ids with heads in the store. */
export async function workflowsWithHeads(store: ObjectStore): Promise<string[]> {
  const keys = await store.list(headsPrefix);
  return [...new Set(keys.map((k) => k.slice(headsPrefix.length).split('/')[0]!).filter(Boolean).map((id) => decodeURIComponent(id)))];
}

/**
 * The signer from the secret store, read when first used: an Ed25519 private key (PEM) or an HMAC key
 * (base64, at least 32 bytes). Its id (a hash of the public key, or of the HMAC key) is in every head.
 */
export function auditHeadSigner(kind: 'ed25519' | 'hmac', keySecret: string, secrets: SecretStore): AuditHeadSigner {
  let loaded: Promise<{ keyId: string; sign(text: string): string; verify(text: string, signature: string): boolean }> | undefined;
  const load = () =>
    (loaded ??= secrets.read(keySecret).then(({ value }) => {
      if (kind === 'ed25519') {
        let privateKey: KeyObject;
        try {
          privateKey = createPrivateKey(value);
        } catch (error) {
          throw new Error(`the audit head signing key (secret ${keySecret}) is not a PEM private key: ${(error as Error).message}`);
        }
        if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`the audit head signing key (secret ${keySecret}) is a ${privateKey.asymmetricKeyType} key, not Ed25519 (openssl genpkey -algorithm ed25519)`);
        const publicKey = createPublicKey(privateKey);
        const keyId = `ed25519:${createHash('sha256').update(publicKey.export({ format: 'der', type: 'spki' })).digest('base64url').slice(0, 22)}`;
        return {
          keyId,
          sign: (text: string) => sign(null, Buffer.from(text, 'utf8'), privateKey).toString('base64'),
          verify: (text: string, signature: string) => verify(null, Buffer.from(text, 'utf8'), publicKey, Buffer.from(signature, 'base64')),
        };
      }
      const key = Buffer.from(value.trim(), 'base64');
      if (key.length < 32) throw new Error(`the audit head HMAC key (secret ${keySecret}) is ${key.length} bytes; use at least 32 (openssl rand -base64 32)`);
      const mac = (text: string) => createHmac('sha256', key).update(text, 'utf8').digest();
      return {
        keyId: `hmac:${createHash('sha256').update(key).digest('base64url').slice(0, 22)}`,
        sign: (text: string) => mac(text).toString('base64'),
        verify: (text: string, signature: string) => {
          const given = Buffer.from(signature, 'base64');
          const expected = mac(text);
          return given.length === expected.length && timingSafeEqual(given, expected);
        },
      };
    }));
  return {
    kind,
    keyId: async () => (await load()).keyId,
    sign: async (text) => (await load()).sign(text),
    verify: async (text, signature) => (await load()).verify(text, signature),
  };
}

/** Signs and publishes a head; the same head (workflow, seq, hash) published again writes nothing new. */
export async function publishAuditHead(store: ObjectStore, signer: AuditHeadSigner, head: { workflowId: string; seq: number; hash: string }): Promise<AuditHead> {
  const key = headKey(head.workflowId, head.seq);
  const existing = await store.get(key);
  if (existing) {
    const found = JSON.parse(existing.toString('utf8')) as AuditHead;
    if (found.hash === head.hash) return found;
  }
  const at = new Date().toISOString();
  const signed: AuditHead = { ...head, at, signer: { kind: signer.kind, keyId: await signer.keyId() }, signature: await signer.sign(signedHeadText({ ...head, at })) };
  await store.put(key, JSON.stringify(signed, null, 2) + '\n', 'application/json');
  return signed;
}

export type HeadCheck = { head?: AuditHead; problem?: string };

/** The newest head of a workflow whose signature verifies (a head with a bad signature is a problem in itself). */
export async function newestAuditHead(store: ObjectStore, signer: AuditHeadSigner, workflowId: string): Promise<HeadCheck> {
  const keys = (await store.list(headKeyPrefix(workflowId))).filter((k) => k.endsWith('.json')).sort();
  const newest = keys.at(-1);
  if (!newest) return {};
  let head: AuditHead;
  try {
    head = JSON.parse((await store.get(newest))!.toString('utf8')) as AuditHead;
  } catch (error) {
    return { problem: `the head ${newest} cannot be read: ${(error as Error).message}` };
  }
  if (head.workflowId !== workflowId || !Number.isInteger(head.seq) || typeof head.hash !== 'string' || typeof head.signature !== 'string') return { problem: `the head ${newest} is not a head of this trail` };
  if (head.signer?.keyId !== (await signer.keyId())) return { problem: `the head ${newest} is signed with key ${head.signer?.keyId}, not this environment's ${await signer.keyId()}` };
  if (!(await signer.verify(signedHeadText(head), head.signature))) return { problem: `the signature of the head ${newest} does not verify: the head was forged or altered` };
  return { head };
}
