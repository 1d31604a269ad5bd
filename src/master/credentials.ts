// Per-agent credentials: a 32-byte random secret handed to the agent once, at
// registration, and kept by the master only as its SHA-256 (hex) in the
// agent's record, so a copy of the store lets no one speak for an agent.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export interface IssuedCredential {
  /** What the agent sends as `Authorization: Bearer <secret>`; never stored by the master. */
  secret: string;
  /** What the agent record keeps (`AgentRecord.credential`). */
  hash: string;
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();

/** A fresh credential. */
export function issueCredential(random: (n: number) => Buffer = randomBytes): IssuedCredential {
  const secret = random(32).toString('base64url');
  return { secret, hash: sha256(secret).toString('hex') };
}

/** True when `secret` is the one whose hash is `hash`; in constant time. */
export function matchesHash(secret: string, hash: string): boolean {
  const expected = Buffer.from(hash, 'hex');
  // A tampered (short) hash must not throw in timingSafeEqual; it matches nothing.
  if (expected.length !== 32) return false;
  return timingSafeEqual(sha256(secret), expected);
}

/** True when `given` is `token`; in constant time (both are hashed first, so lengths are equal). */
export function sameToken(given: string, token: string): boolean {
  return timingSafeEqual(sha256(given), sha256(token));
}
