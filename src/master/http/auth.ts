// Bearer-token check for write endpoints, in constant time.

import { createHash, timingSafeEqual } from 'node:crypto';
import { VxnetError } from '../../errors.js';

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/** Returns a check that throws UNAUTHORIZED (no token) or FORBIDDEN (wrong token). */
export function bearerCheck(token: string): (authorization: string | undefined) => void {
  const expected = digest(token);
  return (authorization) => {
    const match = authorization === undefined ? null : /^Bearer +(\S+)\s*$/i.exec(authorization);
    if (!match) {
      throw new VxnetError(
        'UNAUTHORIZED',
        'this endpoint needs a token; send the header "Authorization: Bearer <token>" with the token from the master\'s --token-file',
      );
    }
    // Hashing first gives equal lengths, so the compare time does not depend on the guess.
    if (!timingSafeEqual(digest(match[1]!), expected)) {
      throw new VxnetError('FORBIDDEN', "the bearer token is wrong; use the token from the master's --token-file");
    }
  };
}
