// The lexer of Go's text/template: text and {{actions}} into items, as Go's lex.go cuts them
// (trim markers, comments, fields, variables, literals). Pure: a string in, items out.

export type ItemType =
  | 'text' | 'leftDelim' | 'rightDelim' | 'space' | 'pipe' | 'leftParen' | 'rightParen'
  | 'declare' | 'assign' | 'string' | 'rawString' | 'charConstant' | 'number' | 'bool' | 'nil'
  | 'dot' | 'field' | 'variable' | 'identifier' | 'keyword' | 'char' | 'error' | 'eof';

export interface Item {
  type: ItemType;
  /** The item's text as written (for text: after the \t / \n escapes and trimming). */
  val: string;
  /** Byte offset of the item in the template. */
  pos: number;
  /** 1-based line of the item. */
  line: number;
}

/** A template that does not lex or parse: Go's message, without the `template: :N:` prefix. */
export class TemplateSyntaxError extends Error {
  constructor(readonly line: number, readonly detail: string) {
    super(`template: :${line}: ${detail}`);
    this.name = 'TemplateSyntaxError';
  }
}

const KEYWORDS = new Set(['block', 'break', 'continue', 'define', 'else', 'end', 'if', 'range', 'template', 'with']);

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const isAlphaNumeric = (c: string | undefined): boolean => c !== undefined && (c === '_' || /^[\p{L}\p{Nd}]$/u.test(c));

/** Docker's CLI turns a literal `\t` and `\n` in a --format into a tab and a newline; here only in text. */
function unescapeText(text: string): string {
  return text.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
}

/** Go's rune description, as in `unrecognized character in action: U+0023 '#'`. */
function describeRune(c: string): string {
  const code = c.codePointAt(0) ?? 0;
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')} '${c}'`;
}

/** The items of a template; a lexing error ends them as an `error` item (val: Go's message). */
export function lex(input: string): Item[] {
  const items: Item[] = [];
  try {
    lexInto(input, items);
  } catch (err) {
    if (!(err instanceof TemplateSyntaxError)) throw err;
    items.push({ type: 'error', val: err.detail, pos: input.length, line: err.line });
  }
  return items;
}

function lexInto(input: string, items: Item[]): void {
  let pos = 0;
  let trimNextText = false;
  const lineAt = (p: number): number => {
    let n = 1;
    for (let i = 0; i < p && i < input.length; i++) if (input[i] === '\n') n++;
    return n;
  };
  const emit = (type: ItemType, start: number, end: number, val = input.slice(start, end)): void => {
    items.push({ type, val, pos: start, line: lineAt(start) });
  };
  const fail = (at: number, detail: string): never => {
    throw new TemplateSyntaxError(lineAt(at), detail);
  };
  /** Just past the quoted text opening at `start` (backslash escapes skipped); a newline or the end is an error. */
  const endOfQuoted = (start: number, quote: string, unterminated: string): number => {
    let p = start + 1;
    for (;;) {
      const d = input[p];
      if (d === '\\') {
        p += 2;
        continue;
      }
      if (d === undefined || d === '\n') fail(start, unterminated);
      p++;
      if (d === quote) return p;
    }
  };
  /** A right delimiter at p: `}}` or ` -}}` (trims the text after it). */
  const rightDelimAt = (p: number): { length: number; trim: boolean } | undefined => {
    if (isSpace(input[p]) && input[p + 1] === '-' && input.startsWith('}}', p + 2)) return { length: 4, trim: true };
    if (input.startsWith('}}', p)) return { length: 2, trim: false };
    return undefined;
  };

  while (pos < input.length) {
    const open = input.indexOf('{{', pos);
    const textEnd = open === -1 ? input.length : open;
    let text = input.slice(pos, textEnd);
    const leftTrim = open !== -1 && input[open + 2] === '-' && isSpace(input[open + 3]);
    if (trimNextText) text = text.replace(/^[ \t\r\n]+/, '');
    if (leftTrim) text = text.replace(/[ \t\r\n]+$/, '');
    trimNextText = false;
    if (text.length > 0) emit('text', pos, textEnd, unescapeText(text));
    if (open === -1) break;
    emit('leftDelim', open, open + 2);
    pos = open + (leftTrim ? 4 : 2);
    // A comment: {{/* … */}}, nothing else in the action.
    if (input.startsWith('/*', pos)) {
      const close = input.indexOf('*/', pos + 2);
      if (close === -1) fail(open, 'unclosed comment');
      const delim = rightDelimAt(close + 2);
      if (!delim) fail(open, 'comment ends before closing delimiter');
      items.pop(); // a comment leaves no item
      pos = close + 2 + (delim?.length ?? 0);
      trimNextText = delim?.trim ?? false;
      continue;
    }
    let parenDepth = 0;
    for (;;) {
      const delim = rightDelimAt(pos);
      if (delim) {
        if (parenDepth > 0) fail(pos, 'unclosed left paren');
        emit('rightDelim', pos, pos + delim.length);
        pos += delim.length;
        trimNextText = delim.trim;
        break;
      }
      const c = input[pos];
      const start = pos;
      if (c === undefined) fail(open, 'unclosed action');
      else if (isSpace(c)) {
        while (isSpace(input[pos]) && !rightDelimAt(pos)) pos++;
        emit('space', start, pos);
      } else if (c === '=') {
        pos++;
        emit('assign', start, pos);
      } else if (c === ':') {
        if (input[pos + 1] !== '=') fail(pos, 'expected :=');
        pos += 2;
        emit('declare', start, pos);
      } else if (c === '|') {
        pos++;
        emit('pipe', start, pos);
      } else if (c === '"') {
        pos = endOfQuoted(pos, '"', 'unterminated quoted string');
        emit('string', start, pos);
      } else if (c === '`') {
        const close = input.indexOf('`', pos + 1);
        if (close === -1) fail(start, 'unterminated raw quoted string');
        pos = close + 1;
        emit('rawString', start, pos);
      } else if (c === "'") {
        pos = endOfQuoted(pos, "'", 'unterminated character constant');
        emit('charConstant', start, pos);
      } else if (c === '$' || (c === '.' && !/[0-9]/.test(input[pos + 1] ?? ''))) {
        pos++;
        while (isAlphaNumeric(input[pos])) pos++;
        if (pos === start + 1) emit(c === '$' ? 'variable' : 'dot', start, pos);
        else {
          if (!atTerminator(input, pos)) fail(pos, `bad character ${describeRune(input[pos] ?? '')}`);
          emit(c === '$' ? 'variable' : 'field', start, pos);
        }
      } else if (c === '+' || c === '-' || c === '.' || /[0-9]/.test(c)) {
        const m = /^[+-]?(0[xX][0-9a-fA-F_]*(\.[0-9a-fA-F_]*)?([pP][+-]?[0-9_]+)?|0[oO][0-7_]+|0[bB][01_]+|[0-9_]*\.?[0-9_]*([eE][+-]?[0-9_]+)?)i?/.exec(input.slice(pos));
        const text = m?.[0] ?? '';
        pos += Math.max(text.length, 1);
        if (isAlphaNumeric(input[pos]) || !/[0-9]/.test(text)) {
          while (isAlphaNumeric(input[pos])) pos++;
          fail(start, `bad number syntax: "${input.slice(start, pos)}"`);
        }
        emit('number', start, pos);
      } else if (isAlphaNumeric(c)) {
        while (isAlphaNumeric(input[pos])) pos++;
        if (!atTerminator(input, pos)) fail(pos, `bad character ${describeRune(input[pos] ?? '')}`);
        const word = input.slice(start, pos);
        emit(KEYWORDS.has(word) ? 'keyword' : word === 'true' || word === 'false' ? 'bool' : word === 'nil' ? 'nil' : 'identifier', start, pos);
      } else if (c === '(') {
        pos++;
        parenDepth++;
        emit('leftParen', start, pos);
      } else if (c === ')') {
        pos++;
        parenDepth--;
        if (parenDepth < 0) fail(start, 'unexpected right paren');
        emit('rightParen', start, pos);
      } else if (c >= ' ' && c <= '~') {
        pos++;
        emit('char', start, pos);
      } else {
        fail(start, `unrecognized character in action: ${describeRune(c)}`);
      }
    }
  }
  items.push({ type: 'eof', val: '', pos: input.length, line: lineAt(input.length) });
}

/** What may follow a word or field: space, the end, punctuation of the grammar, or a right delimiter. */
function atTerminator(input: string, pos: number): boolean {
  const c = input[pos];
  if (c === undefined || isSpace(c)) return true;
  if ('.,|:)('.includes(c)) return true;
  return input.startsWith('}}', pos);
}
