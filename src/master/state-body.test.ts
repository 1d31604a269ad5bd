import { describe, expect, it } from 'vitest';
import { type BodyPart, buildStateBody, forgetPlace, placedText } from './state-body.js';

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
    expect(body.equals(Buffer.from(text))).toBe(true);
    expect(JSON.parse(body.toString()).agents).toHaveLength(3);
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
    expect(second.toString()).toBe(`${HEAD}{"ip":"a"},{"ip":"b","subnet":"10.1.0.0/24"},{"ip":"c","known":true}]}`);
    expect(parts.map((p) => p.renders)).toEqual([1, 2, 1]);
    expect(parts.map((p) => placedText(p, second))).toEqual(['{"ip":"a"}', '{"ip":"b","subnet":"10.1.0.0/24"}', '{"ip":"c","known":true}']);
    // The first answer is left as it was (a client may still be reading it).
    expect(first.toString()).toBe(`${HEAD}{"ip":"a"},{"ip":"b"},{"ip":"c"}]}`);
  });

  it('copies agents that follow each other in one run, and breaks runs where one was removed or moved', () => {
    const parts = ['a', 'b', 'c', 'd', 'e', 'f'].map((x) => part(`{"ip":"${x}"}`));
    const first = buildStateBody(HEAD, parts, undefined, render);
    // c removed, e moved to the front, f changed: e | a b | d | f
    forgetPlace(parts[5]!, '{"ip":"f","new":1}');
    const next = [parts[4]!, parts[0]!, parts[1]!, parts[3]!, parts[5]!];
    const second = buildStateBody(HEAD, next, first, render);
    expect(second.toString()).toBe(`${HEAD}{"ip":"e"},{"ip":"a"},{"ip":"b"},{"ip":"d"},{"ip":"f","new":1}]}`);
    expect(next.map((p) => placedText(p, second))).toEqual(['{"ip":"e"}', '{"ip":"a"}', '{"ip":"b"}', '{"ip":"d"}', '{"ip":"f","new":1}']);
    expect(parts.map((p) => p.renders)).toEqual([1, 1, 1, 1, 1, 1]);
    // And from that answer again, all in one run.
    const third = buildStateBody(HEAD, next, second, render);
    expect(third.equals(second)).toBe(true);
    expect(next.map((p) => placedText(p, third))).toEqual(next.map((p) => placedText(p, second)));
  });

  it('places agents right in a large answer (10 MB), and copies them from it next time', () => {
    const parts = Array.from({ length: 5_000 }, (_, i) =>
      part(`{"ip":"10.0.${i >> 8}.${i & 255}","pad":"${'é'.repeat(i % 7)}${'x'.repeat(2_000)}"}`),
    );
    const first = buildStateBody(HEAD, parts, undefined, render);
    expect(first.length).toBeGreaterThan(10_000_000);
    expect(JSON.parse(first.toString()).agents.map((a: { ip: string }) => a.ip)).toEqual(parts.map((p) => JSON.parse(p.json).ip));
    expect(parts.every((p) => placedText(p, first) === p.json)).toBe(true);
    forgetPlace(parts[2_500]!, '{"ip":"changed"}');
    const second = buildStateBody(HEAD, parts, first, render);
    expect(parts.every((p) => p.renders === 1)).toBe(true);
    expect(second.length).toBe(first.length - Buffer.byteLength(parts[2_500]!.json) + '{"ip":"changed"}'.length);
    expect(parts.map((p, i) => (i === 2_500 ? '{"ip":"changed"}' : p.json))).toEqual(parts.map((p) => placedText(p, second)));
  });

  it('sizes the answer by every agent, not the first: a small first agent and large ones after it', () => {
    const parts = [part('{"ip":"a"}'), ...Array.from({ length: 50 }, (_, i) => part(`{"ip":"${i}","pad":"${'y'.repeat(10_000)}"}`))];
    const body = buildStateBody(HEAD, parts, undefined, render);
    expect(JSON.parse(body.toString()).agents).toHaveLength(51);
    expect(parts.every((p) => placedText(p, body) === p.json)).toBe(true);
  });

  it('writes an empty agent list', () => {
    expect(buildStateBody(HEAD, [], undefined, render).toString()).toBe(`${HEAD}]}`);
  });
});
