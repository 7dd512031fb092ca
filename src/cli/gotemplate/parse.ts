// The parser of Go's text/template: items into a tree, with Go's checks (undefined variables
// and functions, {{end}} and {{else}} where they belong, break/continue inside range) and Go's
// messages. Pure.
import { lex, TemplateSyntaxError, type Item, type ItemType } from './lex.js';

export type Arg =
  | { kind: 'field'; pos: number; ident: string[] }
  | { kind: 'variable'; pos: number; ident: string[] }
  | { kind: 'chain'; pos: number; node: Arg; field: string[] }
  | { kind: 'dot'; pos: number }
  | { kind: 'nil'; pos: number }
  | { kind: 'bool'; pos: number; value: boolean }
  | { kind: 'number'; pos: number; value: number; text: string }
  | { kind: 'string'; pos: number; value: string; text: string }
  | { kind: 'identifier'; pos: number; name: string }
  | { kind: 'pipe'; pos: number; pipe: Pipe };

export interface Command {
  pos: number;
  args: Arg[];
}

export interface Pipe {
  pos: number;
  isAssign: boolean;
  decl: string[];
  cmds: Command[];
}

export interface ControlNode {
  kind: 'if' | 'with' | 'range';
  pos: number;
  pipe: Pipe;
  list: TemplateNode[];
  elseList?: TemplateNode[];
}

export type TemplateNode =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pos: number; pipe: Pipe }
  | ControlNode
  | { kind: 'break' | 'continue'; pos: number };

/** The source of a node as Go's String() gives it (error contexts). */
export function argString(a: Arg): string {
  switch (a.kind) {
    case 'field': return `.${a.ident.join('.')}`;
    case 'variable': return a.ident.join('.');
    case 'chain': return `${a.node.kind === 'pipe' ? `(${argString(a.node)})` : argString(a.node)}.${a.field.join('.')}`;
    case 'dot': return '.';
    case 'nil': return 'nil';
    case 'bool': return String(a.value);
    case 'number': return a.text;
    case 'string': return a.text;
    case 'identifier': return a.name;
    case 'pipe': return pipeString(a.pipe);
  }
}

export function commandString(c: Command): string {
  return c.args.map((a) => (a.kind === 'pipe' ? `(${argString(a)})` : argString(a))).join(' ');
}

export function pipeString(p: Pipe): string {
  const decl = p.decl.length > 0 ? `${p.decl.join(', ')} ${p.isAssign ? '=' : ':='} ` : '';
  return decl + p.cmds.map(commandString).join(' | ');
}

/** Go's strconv.Unquote for "…" strings and '…' runes. */
function unquote(text: string, item: Item): string {
  const body = text.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i] ?? '';
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = body[++i] ?? '';
    const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'" };
    const mapped = simple[e];
    if (mapped !== undefined) {
      out += mapped;
      continue;
    }
    const hex = (n: number): number => {
      const digits = body.slice(i + 1, i + 1 + n);
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(digits)) throw new TemplateSyntaxError(item.line, 'invalid syntax');
      i += n;
      return parseInt(digits, 16);
    };
    if (e === 'x') out += String.fromCharCode(hex(2));
    else if (e === 'u') out += String.fromCodePoint(hex(4));
    else if (e === 'U') out += String.fromCodePoint(hex(8));
    else if (/[0-7]/.test(e) && /^[0-7]{2}$/.test(body.slice(i + 1, i + 3))) {
      out += String.fromCharCode(parseInt(body.slice(i, i + 3), 8));
      i += 2;
    } else throw new TemplateSyntaxError(item.line, 'invalid syntax');
  }
  return out;
}

function parseNumber(item: Item): number {
  if (item.type === 'charConstant') {
    const s = unquote(item.val, item);
    const cp = s.codePointAt(0);
    if (cp === undefined || [...s].length !== 1) throw new TemplateSyntaxError(item.line, `malformed character constant: ${item.val}`);
    return cp;
  }
  let text = item.val.replace(/_/g, '');
  if (text.endsWith('i')) throw new TemplateSyntaxError(item.line, `complex numbers are not supported: ${item.val}`);
  let sign = 1;
  if (text.startsWith('-') || text.startsWith('+')) {
    sign = text.startsWith('-') ? -1 : 1;
    text = text.slice(1);
  }
  let n: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(text)) n = parseInt(text.slice(2), 16);
  else if (/^0[oO][0-7]+$/.test(text)) n = parseInt(text.slice(2), 8);
  else if (/^0[bB][01]+$/.test(text)) n = parseInt(text.slice(2), 2);
  else if (/^0[0-7]+$/.test(text)) n = parseInt(text.slice(1), 8);
  else n = /^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(n)) throw new TemplateSyntaxError(item.line, `illegal number syntax: "${item.val}"`);
  return sign * n;
}

const FUNCTION_START: ItemType[] = ['bool', 'charConstant', 'dot', 'field', 'identifier', 'number', 'nil', 'rawString', 'string', 'variable', 'leftParen'];

/** Describes an item in "unexpected …" messages as Go does. */
function describe(item: Item): string {
  switch (item.type) {
    case 'eof': return 'EOF';
    case 'keyword': return `<${item.val}>`;
    case 'rightDelim': case 'leftDelim': return `"${item.val.replace(/^ -/, '')}"`;
    case 'space': return 'space';
    default: return `"${item.val}"`;
  }
}

class Parser {
  private i = 0;
  private vars: string[] = ['$'];
  private rangeDepth = 0;

  constructor(private readonly items: Item[], private readonly hasFunction: (name: string) => boolean) {}

  private next(): Item {
    const item = this.items[this.i] ?? this.items[this.items.length - 1];
    if (!item) throw new TemplateSyntaxError(1, 'unexpected EOF');
    // The lexer's error, met where Go's parser would meet it: after the items before it.
    if (item.type === 'error') throw new TemplateSyntaxError(item.line, item.val);
    if (this.i < this.items.length) this.i++;
    return item;
  }
  private backup(n = 1): void {
    this.i -= n;
  }
  private peek(): Item {
    const item = this.next();
    this.backup();
    return item;
  }
  private nextNonSpace(): Item {
    let item = this.next();
    while (item.type === 'space') item = this.next();
    return item;
  }
  private peekNonSpace(): Item {
    const item = this.nextNonSpace();
    this.backup();
    return item;
  }
  private fail(item: Item, detail: string): never {
    throw new TemplateSyntaxError(item.line, detail);
  }
  private unexpected(item: Item, context: string): never {
    this.fail(item, `unexpected ${describe(item)} in ${context}`);
  }
  private expect(type: ItemType, context: string): Item {
    const item = this.nextNonSpace();
    if (item.type !== type) this.unexpected(item, context);
    return item;
  }

  parse(): TemplateNode[] {
    const list: TemplateNode[] = [];
    while (this.peek().type !== 'eof') {
      const n = this.textOrAction();
      if (n === 'end' || n === 'else' || n === 'else if') this.fail(this.items[this.i - 1] ?? this.peek(), `unexpected {{${n === 'end' ? 'end' : 'else'}}}`);
      list.push(n);
    }
    return list;
  }

  /** Nodes up to an {{end}} or {{else}}, and which one ended them. */
  private itemList(): { list: TemplateNode[]; ended: 'end' | 'else' | 'else if' } {
    const list: TemplateNode[] = [];
    while (this.peekNonSpace().type !== 'eof') {
      const n = this.textOrAction();
      if (n === 'end' || n === 'else' || n === 'else if') return { list, ended: n };
      list.push(n);
    }
    this.fail(this.peek(), 'unexpected EOF');
  }

  private textOrAction(): TemplateNode | 'end' | 'else' | 'else if' {
    const item = this.nextNonSpace();
    if (item.type === 'text') return { kind: 'text', text: item.val };
    if (item.type === 'leftDelim') return this.action();
    this.unexpected(item, 'input');
  }

  private action(): TemplateNode | 'end' | 'else' | 'else if' {
    const item = this.nextNonSpace();
    if (item.type === 'keyword') {
      switch (item.val) {
        case 'end':
          this.expect('rightDelim', 'end');
          return 'end';
        case 'else': {
          if (this.peekNonSpace().type === 'keyword' && this.peekNonSpace().val === 'if') return 'else if';
          this.expect('rightDelim', 'else');
          return 'else';
        }
        case 'if': return this.control('if', item);
        case 'with': return this.control('with', item);
        case 'range': return this.control('range', item);
        case 'break': case 'continue': {
          if (this.rangeDepth === 0) this.fail(item, `{{${item.val}}} outside {{range}}`);
          this.expect('rightDelim', `{{${item.val}}}`);
          return { kind: item.val, pos: item.pos };
        }
        default:
          this.fail(item, `{{${item.val}}} is not supported by minictr's templates`);
      }
    }
    this.backup();
    const pos = this.peekNonSpace().pos;
    return { kind: 'action', pos, pipe: this.pipeline('command', 'rightDelim') };
  }

  private control(kind: 'if' | 'with' | 'range', item: Item): ControlNode {
    const mark = this.vars.length;
    try {
      const pipe = this.pipeline(kind, 'rightDelim');
      if (kind === 'range') this.rangeDepth++;
      const body = this.itemList();
      if (kind === 'range') this.rangeDepth--;
      const node: ControlNode = { kind, pos: item.pos, pipe, list: body.list };
      if (body.ended === 'else if') {
        // {{else if …}}: an if in the else list, which shares this one's {{end}}.
        const ifItem = this.nextNonSpace();
        if (kind !== 'if') this.fail(ifItem, `unexpected <if> in ${kind}: {{else if}} belongs to {{if}}`);
        node.elseList = [this.control('if', ifItem)];
      } else if (body.ended === 'else') {
        const rest = this.itemList();
        if (rest.ended !== 'end') this.fail(this.items[this.i - 1] ?? item, 'expected end; found {{else}}');
        node.elseList = rest.list;
      }
      return node;
    } finally {
      this.vars.length = mark;
    }
  }

  private pipeline(context: string, end: 'rightDelim' | 'rightParen'): Pipe {
    const pipe: Pipe = { pos: this.peekNonSpace().pos, isAssign: false, decl: [], cmds: [] };
    // Declarations: $x := …, $x = …, range $i, $e := …
    for (;;) {
      const v = this.peekNonSpace();
      if (v.type !== 'variable') break;
      const save = this.i;
      this.nextNonSpace();
      const next = this.peekNonSpace();
      if (next.type === 'assign' || next.type === 'declare') {
        pipe.isAssign = next.type === 'assign';
        this.nextNonSpace();
        if (pipe.isAssign && !this.vars.includes(v.val)) this.fail(v, `undefined variable "${v.val}"`);
        pipe.decl.push(v.val);
        this.vars.push(v.val);
        break;
      }
      if (next.type === 'char' && next.val === ',') {
        this.nextNonSpace();
        pipe.decl.push(v.val);
        this.vars.push(v.val);
        if (context === 'range' && pipe.decl.length < 2) {
          const t = this.peekNonSpace().type;
          if (t === 'variable' || t === 'rightDelim' || t === 'rightParen') continue;
          this.fail(next, 'range can only initialize variables');
        }
        this.fail(next, `too many declarations in ${context}`);
      }
      // Not a declaration: put the variable back.
      this.i = save;
      break;
    }
    for (;;) {
      const item = this.nextNonSpace();
      if (item.type === end) {
        if (pipe.cmds.length === 0) this.fail(item, `missing value for ${context}`);
        pipe.cmds.slice(1).forEach((c, i) => {
          const first = c.args[0];
          if (first && ['bool', 'dot', 'nil', 'number', 'string'].includes(first.kind)) {
            this.fail(item, `non executable command in pipeline stage ${i + 2}`);
          }
        });
        return pipe;
      }
      if (FUNCTION_START.includes(item.type)) {
        this.backup();
        pipe.cmds.push(this.command());
      } else {
        this.unexpected(item, context);
      }
    }
  }

  private command(): Command {
    const cmd: Command = { pos: this.peekNonSpace().pos, args: [] };
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand) cmd.args.push(operand);
      const item = this.next();
      if (item.type === 'space') continue;
      if (item.type === 'rightDelim' || item.type === 'rightParen') this.backup();
      else if (item.type !== 'pipe') this.unexpected(item, 'operand');
      break;
    }
    if (cmd.args.length === 0) this.fail(this.peek(), 'empty command');
    return cmd;
  }

  private operand(): Arg | undefined {
    const node = this.term();
    if (!node) return undefined;
    if (this.peek().type !== 'field') return node;
    const pos = this.peek().pos;
    const fields: string[] = [];
    while (this.peek().type === 'field') fields.push(this.next().val.slice(1));
    switch (node.kind) {
      case 'field': return { kind: 'field', pos: node.pos, ident: [...node.ident, ...fields] };
      case 'variable': return { kind: 'variable', pos: node.pos, ident: [...node.ident, ...fields] };
      case 'bool': case 'string': case 'number': case 'nil': case 'dot':
        this.fail(this.peek(), `unexpected . after term ${JSON.stringify(argString(node))}`);
      default: return { kind: 'chain', pos, node, field: fields };
    }
  }

  private term(): Arg | undefined {
    const item = this.nextNonSpace();
    switch (item.type) {
      case 'identifier':
        if (!this.hasFunction(item.val)) this.fail(item, `function "${item.val}" not defined`);
        return { kind: 'identifier', pos: item.pos, name: item.val };
      case 'dot': return { kind: 'dot', pos: item.pos };
      case 'nil': return { kind: 'nil', pos: item.pos };
      case 'variable': {
        if (!this.vars.includes(item.val)) this.fail(item, `undefined variable "${item.val}"`);
        return { kind: 'variable', pos: item.pos, ident: [item.val] };
      }
      case 'field': return { kind: 'field', pos: item.pos, ident: [item.val.slice(1)] };
      case 'bool': return { kind: 'bool', pos: item.pos, value: item.val === 'true' };
      case 'number': case 'charConstant':
        return { kind: 'number', pos: item.pos, value: parseNumber(item), text: item.val };
      case 'leftParen':
        return { kind: 'pipe', pos: item.pos, pipe: this.pipeline('parenthesized pipeline', 'rightParen') };
      case 'string':
        return { kind: 'string', pos: item.pos, value: unquote(item.val, item), text: item.val };
      case 'rawString':
        return { kind: 'string', pos: item.pos, value: item.val.slice(1, -1).replace(/\r/g, ''), text: item.val };
      default:
        this.backup();
        return undefined;
    }
  }
}

/** The tree of a template; throws TemplateSyntaxError with Go's message when it does not parse. */
export function parse(text: string, hasFunction: (name: string) => boolean): TemplateNode[] {
  return new Parser(lex(text), hasFunction).parse();
}
