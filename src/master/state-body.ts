// The /state answer as UTF-8 bytes, with where each agent's AgentInfo bytes
// are in it, so the state is held once (100,000 agents: about 75 MB), not as
// per-agent JSON beside a copy of the whole answer. Rebuilt only when asked
// after a change: unchanged agents keep their bytes, changed ones are
// rendered once, and every offset then points into the new answer. Offsets,
// not Buffer views per agent: a view costs about a hundred bytes and a
// restart adopting a cached answer made 100,000.
//
// An answer may be in chunks: a rebuild takes each run of unchanged agents
// as a view of the previous answer's bytes and writes only what is new, so
// a few changes among 100,000 agents cost their own bytes, not a 75 MB copy
// (0.3-0.4 s on the test VMs, where new memory is slow to touch). Too many
// chunks, or old answers held mostly for a few views, and the rebuild is one
// copy again.

/** One agent's place in the answer. */
export interface BodyPart {
  /** Where its bytes are in the last answer built (`length` -1: not in it). */
  start: number;
  length: number;
  /** Its JSON when already known but not yet in an answer (a change just applied); else it is rendered. */
  text: string | undefined;
}

/** Above this many chunks a rebuild copies into one buffer: each chunk is a write to every reader's socket. */
export const MAX_CHUNKS = 512;
/** A rebuild into chunks may keep older answers alive up to this many times its own size. */
const HELD_PER_BYTE = 1.5;

/** An answer's bytes: its chunks one after another. A part never spans two chunks. */
export class StateBody {
  readonly size: number;
  /** Bytes of memory its chunks keep alive (their whole buffers, views of older answers included). */
  readonly held: number;
  /** Where each chunk begins in the answer. */
  private readonly starts: number[];

  constructor(readonly chunks: readonly Buffer[]) {
    this.starts = new Array<number>(chunks.length);
    let at = 0;
    const buffers = new Set<ArrayBufferLike>();
    for (let i = 0; i < chunks.length; i++) {
      this.starts[i] = at;
      at += chunks[i]!.length;
      buffers.add(chunks[i]!.buffer);
    }
    this.size = at;
    let held = 0;
    for (const buffer of buffers) held += buffer.byteLength;
    this.held = held;
  }

  static of(bytes: Buffer): StateBody {
    return new StateBody([bytes]);
  }

  /** The answer as one buffer: its only chunk, or a copy of them all. */
  joined(): Buffer {
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks as Buffer[], this.size);
  }

  /** The bytes from `from` to `to` as UTF-8 text. */
  text(from: number, to: number): string {
    const i = this.chunkAt(from);
    const chunk = this.chunks[i]!;
    const start = this.starts[i]!;
    if (to - start <= chunk.length) return chunk.toString('utf8', from - start, to - start);
    const views: Buffer[] = [];
    this.views(from, to, views);
    return Buffer.concat(views).toString('utf8');
  }

  /** Appends views (no copy) of the bytes from `from` to `to`, one per chunk they lie in. */
  views(from: number, to: number, into: Buffer[]): void {
    for (let i = this.chunkAt(from); from < to; i++) {
      const start = this.starts[i]!;
      const end = Math.min(to, start + this.chunks[i]!.length);
      into.push(this.chunks[i]!.subarray(from - start, end - start));
      from = end;
    }
  }

  /** Copies the bytes from `from` to `to` into `target` at `at`; returns how many. */
  copy(target: Buffer, at: number, from: number, to: number): number {
    let copied = 0;
    for (let i = this.chunkAt(from); from < to; i++) {
      const start = this.starts[i]!;
      const end = Math.min(to, start + this.chunks[i]!.length);
      copied += this.chunks[i]!.copy(target, at + copied, from - start, end - start);
      from = end;
    }
    return copied;
  }

  /** The chunk that holds byte `at`: the last one beginning at or before it. */
  private chunkAt(at: number): number {
    let low = 0;
    let high = this.starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.starts[middle]! <= at) low = middle;
      else high = middle - 1;
    }
    return low;
  }
}

/** Marks a part as not in any answer: the next one renders it (or uses `text`). */
export function forgetPlace(part: BodyPart, text?: string): void {
  part.start = 0;
  part.length = -1;
  part.text = text;
}

/** A part's bytes in `previous` (the last answer built), or undefined when it must be rendered. */
export function placedText(part: BodyPart, previous: StateBody | undefined): string | undefined {
  if (part.length >= 0 && previous) return previous.text(part.start, part.start + part.length);
  return part.text;
}

/**
 * `{"network":...,"agents":[a,b,...]}` as bytes (`head` is everything
 * before the first agent). `previous` is the last answer built, which parts
 * with a place point into; afterwards every part points into the result.
 *
 * Two passes: the exact size first, so what is written is one allocation and
 * never a grown copy. Measured at 100,000 agents against writing each agent
 * at once (its string then dies young) into chunks or into a buffer reserved
 * from an estimate: both were slower (1.8 s and 3.5 s against 1.3-1.6 s),
 * since a large buffer allocated before the strings starts V8's incremental
 * marking, which promotes them anyway.
 */
export function buildStateBody<P extends BodyPart>(
  head: string,
  parts: readonly P[],
  previous: StateBody | undefined,
  render: (part: P) => string,
): StateBody {
  const rendered: (string | undefined)[] = new Array(parts.length);
  const ascii: boolean[] = new Array(parts.length);
  // Everything but the agents kept from `previous`: head, commas, "]}" and what is rendered.
  let written = Buffer.byteLength(head) + 2 + Math.max(0, parts.length - 1);
  let kept = 0;
  let runs = 0;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (part.length >= 0 && previous) {
      kept += part.length;
      if (!continuesRun(parts, rendered, i)) runs++;
    } else {
      const text = part.text ?? render(part);
      const bytes = Buffer.byteLength(text);
      rendered[i] = text;
      // As many bytes as characters: all ASCII, which latin1 copies as is (much faster than encoding UTF-8).
      ascii[i] = bytes === text.length;
      written += bytes;
    }
  }
  const size = written + kept;
  // In chunks when it stays few of them and keeps little besides this answer alive; else one buffer.
  const chunked = previous !== undefined && 2 * runs + 1 <= MAX_CHUNKS && previous.held <= HELD_PER_BYTE * size;
  const out = Buffer.allocUnsafe(chunked ? written : size);
  const chunks: Buffer[] = [];
  let used = out.write(head, 0);
  // Where the answer is (`used` when it is one buffer), and where the bytes written since the last chunk begin.
  let at = used;
  let pending = 0;
  for (let i = 0; i < parts.length; ) {
    if (i > 0) {
      out[used++] = 0x2c; // ,
      at++;
    }
    const part = parts[i]!;
    const text = rendered[i];
    if (text !== undefined) {
      const bytes = out.write(text, used, ascii[i] ? 'latin1' : 'utf8');
      part.start = at;
      part.length = bytes;
      part.text = undefined;
      used += bytes;
      at += bytes;
      i++;
      continue;
    }
    // Parts that follow each other in `previous` (a comma apart) are one view, or one copy.
    let next = i + 1;
    let end = part.start + part.length;
    while (next < parts.length && continuesRun(parts, rendered, next)) {
      end = parts[next]!.start + parts[next]!.length;
      next++;
    }
    const shift = at - part.start;
    if (chunked) {
      if (used > pending) chunks.push(out.subarray(pending, used));
      previous!.views(part.start, end, chunks);
      pending = used;
    } else used += previous!.copy(out, used, part.start, end);
    at += end - part.start;
    for (let k = i; k < next; k++) {
      parts[k]!.start += shift;
      parts[k]!.text = undefined;
    }
    i = next;
  }
  out[used++] = 0x5d; // ]
  out[used++] = 0x7d; // }
  if (!chunked) return StateBody.of(out);
  chunks.push(out.subarray(pending, used));
  return new StateBody(chunks);
}

/** Whether part `i` has a place right after part `i - 1`'s in the previous answer (a comma apart), both kept. */
function continuesRun(parts: readonly BodyPart[], rendered: readonly (string | undefined)[], i: number): boolean {
  if (i === 0 || rendered[i - 1] !== undefined || parts[i]!.length < 0 || parts[i - 1]!.length < 0) return false;
  return parts[i]!.start === parts[i - 1]!.start + parts[i - 1]!.length + 1;
}
