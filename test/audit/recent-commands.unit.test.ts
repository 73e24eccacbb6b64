/**
 * The global pass's memory of recent commands (src/audit/recent-commands.ts) answers like a
 * map of the last N command ids, in fixed memory; and command ids are read from stored
 * metadata without a full parse only when that is exact.
 */
import { describe, expect, it } from 'vitest';
import { commandIdOf } from '../../src/audit/global-pass.js';
import { RecentCommands } from '../../src/audit/recent-commands.js';

describe('RecentCommands', () => {
  it('remembers the last N commands and forgets the oldest', () => {
    const recent = new RecentCommands(3);
    recent.add('a', 1);
    recent.add('b', 2);
    recent.add('c', 3);
    expect([recent.candidates('a'), recent.candidates('b'), recent.candidates('c'), recent.candidates('d')]).toEqual([[1], [2], [3], []]);
    recent.add('d', 4);
    expect(recent.size).toBe(3);
    expect(recent.candidates('a')).toEqual([]);
    expect(recent.candidates('d')).toEqual([4]);
    recent.add('c', 5);
    expect(recent.candidates('c')).toEqual([5, 3]);
    recent.add('e', 6);
    expect(recent.candidates('c')).toEqual([5]);
    expect(recent.candidates('d')).toEqual([4]);
  });

  it('agrees with a map of the last N ids over a long random sequence', () => {
    let seed = 42;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    for (const capacity of [1, 7, 64]) {
      const recent = new RecentCommands(capacity);
      const window: Array<[string, number]> = [];
      for (let position = 1; position <= 20_000; position++) {
        const id = `cmd-${next() % (capacity * 3)}`;
        const expected = window.filter(([w]) => w === id).map(([, p]) => p).reverse();
        expect(recent.candidates(id)).toEqual(expected);
        recent.add(id, position);
        window.push([id, position]);
        if (window.length > capacity) window.shift();
      }
    }
  });
});

describe('commandIdOf', () => {
  it('reads canonical metadata without parsing, and anything else by parsing', () => {
    expect(commandIdOf('{"commandId":"c-1","correlationId":"c-1","machine":{"id":"m"}}')).toBe('c-1');
    expect(commandIdOf('{"commandId":"c-2"}')).toBe('c-2');
    expect(commandIdOf('{"commandId":"a\\"b","x":1}')).toBe('a"b');
    expect(commandIdOf('{"commandId":"a\\u0041"}')).toBe('aA');
    expect(commandIdOf('{"causationId":"x","commandId":"c-3"}')).toBe('c-3');
    expect(commandIdOf('{ "commandId": "c-4" }')).toBe('c-4');
    expect(commandIdOf('{"commandId":7}')).toBeUndefined();
    expect(commandIdOf('{"commandId":"unterminated')).toBeUndefined();
    expect(commandIdOf('not json')).toBeUndefined();
    expect(commandIdOf('null')).toBeUndefined();
  });
});
