import { describe, expect, it } from 'vitest';
import { type BodyPart, buildStateBody } from './state-body.js';

const part = (json: string): BodyPart & { renders: number } => {
  const p = {
    bytes: undefined as Buffer | undefined,
    renders: 0,
    render: () => {
      p.renders++;
      return json;
    },
  };
  return p;
};

/** Whether `view` is bytes of `body` itself (small buffers share a pool, so the ArrayBuffer alone says too little). */
const inside = (view: Buffer, body: Buffer): boolean =>
  view.buffer === body.buffer && view.byteOffset >= body.byteOffset && view.byteOffset + view.length <= body.byteOffset + body.length;

const HEAD = '{"network":{"overlays":[]},"agents":[';

describe('buildStateBody', () => {
  it('is the UTF-8 of the whole state, each agent rendered once and viewed in place', () => {
    const parts = [part('{"ip":"10.0.0.1"}'), part('{"ip":"10.0.0.2","error":"plein — ü 😀"}'), part('{"ip":"10.0.0.3"}')];
    const body = buildStateBody(HEAD, parts);
    const text = `${HEAD}${['{"ip":"10.0.0.1"}', '{"ip":"10.0.0.2","error":"plein — ü 😀"}', '{"ip":"10.0.0.3"}'].join(',')}]}`;
    expect(body.equals(Buffer.from(text))).toBe(true);
    expect(JSON.parse(body.toString()).agents).toHaveLength(3);
    expect(parts.map((p) => p.bytes!.toString())).toEqual(parts.map((p) => p.render()));
    // A view, not a copy: the agents' bytes live in the answer.
    for (const p of parts) expect(inside(p.bytes!, body)).toBe(true);
  });

  it('copies unchanged agents, renders only a changed one, and leaves nothing pointing at the old answer', () => {
    const parts = [part('{"ip":"a"}'), part('{"ip":"b"}'), part('{"ip":"c"}')];
    const first = buildStateBody(HEAD, parts);
    const changed = part('{"ip":"b","subnet":"10.1.0.0/24"}');
    const next = [parts[0]!, changed, parts[2]!];
    const second = buildStateBody(HEAD, next);
    expect(second.toString()).toBe(`${HEAD}{"ip":"a"},{"ip":"b","subnet":"10.1.0.0/24"},{"ip":"c"}]}`);
    expect(parts[0]!.renders).toBe(1);
    expect(changed.renders).toBe(1);
    for (const p of next) expect(inside(p.bytes!, second)).toBe(true);
    expect(first.toString()).toContain('{"ip":"b"}');
  });

  it('writes an empty agent list', () => {
    expect(buildStateBody(HEAD, []).toString()).toBe(`${HEAD}]}`);
  });
});
