/**
 * Where a JSON text goes wrong, for the answer to `/mlops query` records that do not parse: V8's
 * message gives a position only for some mistakes ("Unexpected token '}', … is not valid JSON"
 * has none), so a small scanner finds the first offending character itself. Pure.
 */

export interface JsonProblem {
  /** Offset of the first character that cannot be read (the text's length: it ended too early). */
  at: number;
  /** What was expected there, in a few words. */
  expected: string;
}

const WS = new Set([' ', '\t', '\n', '\r']);

/**
 * The first syntax error of a JSON text, or undefined when it parses.
 *
 * @example findJsonProblem('{"a": }') // { at: 6, expected: 'a value' }
 */
export function findJsonProblem(text: string): JsonProblem | undefined {
  let i = 0;
  const ws = () => {
    while (i < text.length && WS.has(text[i]!)) i++;
  };
  class Stop {
    constructor(readonly problem: JsonProblem) {}
  }
  const stop = (expected: string): never => {
    throw new Stop({ at: i, expected });
  };
  const literal = (word: string) => {
    for (const ch of word) {
      if (text[i] !== ch) stop(`"${word}"`);
      i++;
    }
  };
  const string = () => {
    if (text[i] !== '"') stop('a double-quoted name');
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') {
        i++;
        if (i >= text.length || !'"\\/bfnrtu'.includes(text[i]!)) stop('an escape such as \\" or \\n');
      } else if (text.charCodeAt(i) < 0x20) stop('a closing "');
      i++;
    }
    if (i >= text.length) stop('a closing "');
    i++;
  };
  const number = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!m) return stop('a value');
    i += m[0].length;
  };
  const value = (): void => {
    ws();
    const ch = text[i];
    if (ch === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        string();
        ws();
        if (text[i] !== ':') stop('":" after the name');
        i++;
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        stop('"," or "}"');
      }
    }
    if (ch === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        stop('"," or "]"');
      }
    }
    if (ch === '"') string();
    else if (ch === 't') literal('true');
    else if (ch === 'f') literal('false');
    else if (ch === 'n') literal('null');
    else number();
  };
  try {
    value();
    ws();
    if (i < text.length) stop('nothing more after the records');
    return undefined;
  } catch (e) {
    if (e instanceof Stop) return e.problem;
    throw e;
  }
}

/**
 * A window of the text around `at` and a caret line under the offending character, for a code
 * block. Long texts are cut to `width` characters either side.
 *
 * @example jsonSnippet('{"a": }', 6) // { line: '{"a": }', caret: '      ^' }
 */
export function jsonSnippet(text: string, at: number, width = 30): { line: string; caret: string } {
  const start = Math.max(0, at - width);
  const end = Math.min(text.length, at + width);
  const head = start > 0 ? '…' : '';
  const tail = end < text.length ? '…' : '';
  // Newlines and tabs would break the caret's alignment: show them as spaces.
  const line = `${head}${text.slice(start, end).replace(/[\n\r\t]/g, ' ')}${tail}`;
  return { line, caret: `${' '.repeat(head.length + at - start)}^` };
}
