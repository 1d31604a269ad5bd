import { describe, expect, it } from 'vitest';
import { type BodyPart, buildStateBody, forgetPlace, MAX_CHUNKS, placedText, StateBody } from './state-body.js';

type Part = BodyPart & { json: string; renders: number };
const part = (json: string): Part => ({ start: 0, length: -1, text: undefined, json, renders: 0 });
const render = (p: Part): string => {
  p.renders++;
  return p.json;
};

const HEAD = '{"network":{"overlays":[]},"agents":[';

describe('buildStateBody', () => {
  it('is the UTF-8 of the whole state, each agent rendered once and placed in it', () => {
    const parts = [part('{"ip":"10.0.0.1"}'), part('{"ip":"10.0.0.2","error":"plein — ü 😀"}'), part('{"ip":"10.0.0.3"}')];
    const body = buildStateBody(HEAD, parts, undefined, render);
    const text = `${HEAD}${['{"ip":"10.0.0.1"}', '{"ip":"10.0.0.2","error":"plein — ü 😀"}', '{"ip":"10.0.0.3"}'].join(',')}]}`;
    expect(body.joined().equals(Buffer.from(text))).toBe(true);
    expect(JSON.parse(body.joined().toString()).agents).toHaveLength(3);
    expect(parts.map((p) => placedText(p, body))).toEqual(parts.map((p) => p.json));
    expect(parts.map((p) => p.renders)).toEqual([1, 1, 1]);
  });

  it('copies unchanged agents from the previous answer, renders only a changed one, and uses text already known', () => {
    const parts = [part('{"ip":"a"}'), part('{"ip":"b"}'), part('{"ip":"c"}')];
    const first = buildStateBody(HEAD, parts, undefined, render);
    parts[1]!.json = '{"ip":"b","subnet":"10.1.0.0/24"}';
    forgetPlace(parts[1]!);
    forgetPlace(parts[2]!, '{"ip":"c","known":true}');
    const second = buildStateBody(HEAD, parts, first, render);
    expect(second.joined().toString()).toBe(`${HEAD}{"ip":"a"},{"ip":"b","subnet":"10.1.0.0/24"},{"ip":"c","known":true}]}`);
    expect(parts.map((p) => p.renders)).toEqual([1, 2, 1]);
    expect(parts.map((p) => placedText(p, second))).toEqual(['{"ip":"a"}', '{"ip":"b","subnet":"10.1.0.0/24"}', '{"ip":"c","known":true}']);
    // The first answer is left as it was (a client may still be reading it).
    expect(first.joined().toString()).toBe(`${HEAD}{"ip":"a"},{"ip":"b"},{"ip":"c"}]}`);
  });

  it('copies agents that follow each other in one run, and breaks runs where one was removed or moved', () => {
    const parts = ['a', 'b', 'c', 'd', 'e', 'f'].map((x) => part(`{"ip":"${x}"}`));
    const first = buildStateBody(HEAD, parts, undefined, render);
    // c removed, e moved to the front, f changed: e | a b | d | f
    forgetPlace(parts[5]!, '{"ip":"f","new":1}');
    const next = [parts[4]!, parts[0]!, parts[1]!, parts[3]!, parts[5]!];
    const second = buildStateBody(HEAD, next, first, render);
    expect(second.joined().toString()).toBe(`${HEAD}{"ip":"e"},{"ip":"a"},{"ip":"b"},{"ip":"d"},{"ip":"f","new":1}]}`);
    expect(next.map((p) => placedText(p, second))).toEqual(['{"ip":"e"}', '{"ip":"a"}', '{"ip":"b"}', '{"ip":"d"}', '{"ip":"f","new":1}']);
    expect(parts.map((p) => p.renders)).toEqual([1, 1, 1, 1, 1, 1]);
    // And from that answer again, all in one run.
    const third = buildStateBody(HEAD, next, second, render);
    expect(third.joined().equals(second.joined())).toBe(true);
    expect(next.map((p) => placedText(p, third))).toEqual(next.map((p) => placedText(p, second)));
  });

  it('places agents right in a large answer (10 MB), and copies them from it next time', () => {
    const parts = Array.from({ length: 5_000 }, (_, i) =>
      part(`{"ip":"10.0.${i >> 8}.${i & 255}","pad":"${'é'.repeat(i % 7)}${'x'.repeat(2_000)}"}`),
    );
    const first = buildStateBody(HEAD, parts, undefined, render);
    expect(first.size).toBeGreaterThan(10_000_000);
    expect(JSON.parse(first.joined().toString()).agents.map((a: { ip: string }) => a.ip)).toEqual(parts.map((p) => JSON.parse(p.json).ip));
    expect(parts.every((p) => placedText(p, first) === p.json)).toBe(true);
    forgetPlace(parts[2_500]!, '{"ip":"changed"}');
    const second = buildStateBody(HEAD, parts, first, render);
    expect(parts.every((p) => p.renders === 1)).toBe(true);
    expect(second.size).toBe(first.size - Buffer.byteLength(parts[2_500]!.json) + '{"ip":"changed"}'.length);
    expect(parts.map((p, i) => (i === 2_500 ? '{"ip":"changed"}' : p.json))).toEqual(parts.map((p) => placedText(p, second)));
  });

  it('sizes the answer by every agent, not the first: a small first agent and large ones after it', () => {
    const parts = [part('{"ip":"a"}'), ...Array.from({ length: 50 }, (_, i) => part(`{"ip":"${i}","pad":"${'y'.repeat(10_000)}"}`))];
    const body = buildStateBody(HEAD, parts, undefined, render);
    expect(JSON.parse(body.joined().toString()).agents).toHaveLength(51);
    expect(parts.every((p) => placedText(p, body) === p.json)).toBe(true);
  });

  it('writes an empty agent list', () => {
    expect(buildStateBody(HEAD, [], undefined, render).joined().toString()).toBe(`${HEAD}]}`);
  });

  it('takes unchanged runs as views of the previous answer, writing only what changed', () => {
    const parts = Array.from({ length: 1_000 }, (_, i) => part(`{"ip":"10.0.${i >> 8}.${i & 255}","pad":"${'x'.repeat(100)}"}`));
    const first = buildStateBody(HEAD, parts, undefined, render);
    expect(first.chunks).toHaveLength(1);
    forgetPlace(parts[10]!, '{"ip":"changed-10"}');
    forgetPlace(parts[500]!, '{"ip":"changed-500","é":1}');
    const second = buildStateBody(HEAD, parts, first, render);
    const expected = parts.map((p, i) => (i === 10 ? '{"ip":"changed-10"}' : i === 500 ? '{"ip":"changed-500","é":1}' : p.json));
    expect(second.joined().toString()).toBe(`${HEAD}${expected.join(',')}]}`);
    // Three runs of the first answer, viewed, not copied; what is new is written once, small.
    const views = second.chunks.filter((c) => c.buffer === first.chunks[0]!.buffer);
    expect(views).toHaveLength(3);
    expect(second.held - first.held).toBeLessThan(10_000);
    expect(parts.map((p) => placedText(p, second))).toEqual(expected);
    // And again from the chunks: every part still where it says.
    forgetPlace(parts[999]!, '{"ip":"last"}');
    const third = buildStateBody(HEAD, parts, second, render);
    expect(parts.map((p) => placedText(p, third))).toEqual([...expected.slice(0, 999), '{"ip":"last"}']);
    expect(third.joined().toString()).toBe(`${HEAD}${[...expected.slice(0, 999), '{"ip":"last"}'].join(',')}]}`);
  });

  it('copies into one buffer when the runs would be too many chunks, or old answers would be held for a few views', () => {
    const parts = Array.from({ length: 2 * MAX_CHUNKS }, (_, i) => part(`{"ip":"${i}"}`));
    const first = buildStateBody(HEAD, parts, undefined, render);
    // Every other agent changed: MAX_CHUNKS runs, too many chunks.
    parts.forEach((p, i) => i % 2 === 0 && forgetPlace(p, `{"ip":"${i}","n":2}`));
    const second = buildStateBody(HEAD, parts, first, render);
    expect(second.chunks).toHaveLength(1);
    expect(second.chunks[0]!.buffer).not.toBe(first.chunks[0]!.buffer);
    expect(JSON.parse(second.joined().toString()).agents[2]).toEqual({ ip: '2', n: 2 });
    // A previous answer in a buffer far larger than this one (it held many more agents): copied out of it.
    const few = parts.slice(0, 3);
    const third = buildStateBody(HEAD, few, second, render);
    expect(third.chunks).toHaveLength(1);
    expect(third.held).toBeLessThan(second.held);
    expect(third.joined().toString()).toBe(`${HEAD}{"ip":"0","n":2},{"ip":"1"},{"ip":"2","n":2}]}`);
  });
});

describe('StateBody', () => {
  const body = new StateBody([Buffer.from('abc'), Buffer.from('déf'), Buffer.from('gh')]);

  it('reads, views and copies ranges across its chunks', () => {
    expect(body.size).toBe(9);
    expect(body.joined().toString()).toBe('abcdéfgh');
    expect(body.text(3, 7)).toBe('déf');
    expect(body.text(1, 8)).toBe('bcdéfg');
    const views: Buffer[] = [];
    body.views(2, 9, views);
    expect(views.map((v) => v.toString())).toEqual(['c', 'déf', 'gh']);
    const target = Buffer.alloc(9);
    expect(body.copy(target, 1, 0, 8)).toBe(8);
    expect(target.subarray(1).toString()).toBe('abcdéfg');
    expect(StateBody.of(Buffer.from('x')).joined().toString()).toBe('x');
  });
});
