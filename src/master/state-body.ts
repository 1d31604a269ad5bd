// The /state answer as UTF-8 bytes, and each agent's AgentInfo bytes as a
// view into it, so the state is held once (100,000 agents: about 75 MB), not
// as per-agent JSON beside a copy of the whole answer. Rebuilt only when asked
// after a change: unchanged agents are copied byte for byte, changed ones
// rendered once, and every view then points into the new answer, so the old
// one is freed.

/** One agent's place in the answer: its bytes once rendered, else how to render them. */
export interface BodyPart {
  bytes: Buffer | undefined;
  render(): string;
}

/**
 * `{"network":...,"agents":[a,b,...]}` as bytes (`head` is everything
 * before the first agent). Sets each part's `bytes` to its view in the result.
 */
export function buildStateBody(head: string, parts: readonly BodyPart[]): Buffer {
  // Two passes: the exact size first, so the answer is one allocation and never a grown copy.
  const rendered: (string | undefined)[] = new Array(parts.length);
  const ascii: boolean[] = new Array(parts.length);
  let size = Buffer.byteLength(head) + 2 + Math.max(0, parts.length - 1);
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (part.bytes) size += part.bytes.length;
    else {
      const text = part.render();
      const bytes = Buffer.byteLength(text);
      rendered[i] = text;
      // As many bytes as characters: all ASCII, which latin1 copies as is (much faster than encoding UTF-8).
      ascii[i] = bytes === text.length;
      size += bytes;
    }
  }
  const body = Buffer.allocUnsafe(size);
  let offset = body.write(head, 0);
  for (let i = 0; i < parts.length; i++) {
    if (i > 0) body[offset++] = 0x2c; // ,
    const part = parts[i]!;
    const start = offset;
    const text = rendered[i];
    offset += text === undefined ? part.bytes!.copy(body, offset) : body.write(text, offset, ascii[i] ? 'latin1' : 'utf8');
    part.bytes = body.subarray(start, offset);
  }
  body[offset++] = 0x5d; // ]
  body[offset++] = 0x7d; // }
  return body;
}
