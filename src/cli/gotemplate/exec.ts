// The executor of Go's text/template over decoded JSON (maps, slices, strings, numbers,
// booleans, nil): Go's walk of the tree, its variable scopes, its printing and its errors
// (`template: :1:2: executing "" at <.A.B>: …`). Pure.
import { formatValue, goType, isMap, mapEntries } from './fmt.js';
import { FuncError, truth, type TemplateFunc } from './funcs.js';
import { argString, commandString, type Arg, type Command, type ControlNode, type Pipe, type TemplateNode } from './parse.js';

/** A template that failed while running, with Go's message. */
export class TemplateExecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateExecError';
  }
}

class Break {}
class Continue {}

/** No value: a missing map key (Go's invalid reflect.Value), printed as <no value>. */
const MISSING = undefined;

interface Variable {
  name: string;
  value: unknown;
}

export class Executor {
  private vars: Variable[];
  private out = '';
  private at: { pos: number; text: string } = { pos: 0, text: '' };

  constructor(
    private readonly source: string,
    private readonly funcs: Record<string, TemplateFunc>,
    root: unknown,
  ) {
    this.vars = [{ name: '$', value: root }];
  }

  run(nodes: TemplateNode[], dot: unknown): string {
    this.walkList(nodes, dot);
    return this.out;
  }

  private fail(detail: string): never {
    const before = this.source.slice(0, this.at.pos);
    const line = before.split('\n').length;
    const lastNewline = before.lastIndexOf('\n');
    const col = lastNewline === -1 ? this.at.pos : this.at.pos - lastNewline - 1;
    const context = this.at.text.length > 20 ? `${this.at.text.slice(0, 20)}...` : this.at.text;
    throw new TemplateExecError(`template: :${line}:${col}: executing "" at <${context}>: ${detail}`);
  }

  private setAt(pos: number, text: string): void {
    this.at = { pos, text };
  }

  private walkList(nodes: TemplateNode[], dot: unknown): void {
    for (const node of nodes) this.walk(node, dot);
  }

  private walk(node: TemplateNode, dot: unknown): void {
    switch (node.kind) {
      case 'text':
        this.out += node.text;
        return;
      case 'action': {
        const value = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.out += printable(value);
        return;
      }
      case 'if': case 'with': {
        const mark = this.vars.length;
        try {
          const value = this.evalPipeline(dot, node.pipe);
          if (truth(value)) this.walkList(node.list, node.kind === 'with' ? value : dot);
          else if (node.elseList) this.walkList(node.elseList, dot);
        } finally {
          this.vars.length = mark;
        }
        return;
      }
      case 'range':
        this.walkRange(node, dot);
        return;
      case 'break':
        throw new Break();
      case 'continue':
        throw new Continue();
    }
  }

  private walkRange(node: ControlNode, dot: unknown): void {
    const mark = this.vars.length;
    try {
      this.setAt(node.pipe.pos, 'range');
      const value = this.evalPipeline(dot, node.pipe);
      const iteration = (key: unknown, elem: unknown): boolean => {
        const decl = node.pipe.decl;
        // evalPipeline pushed the declared variables; each iteration sets them.
        if (decl.length > 0) this.setTopVar(decl.length === 1 ? 1 : 2, node.pipe.isAssign, decl[0] ?? '', decl.length === 1 ? elem : key);
        if (decl.length > 1) this.setTopVar(1, node.pipe.isAssign, decl[1] ?? '', elem);
        const inner = this.vars.length;
        try {
          this.walkList(node.list, elem);
        } catch (err) {
          if (err instanceof Break) return false;
          if (!(err instanceof Continue)) throw err;
        } finally {
          this.vars.length = inner;
        }
        return true;
      };
      let ran = false;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          ran = true;
          if (!iteration(i, value[i])) break;
        }
      } else if (isMap(value)) {
        for (const [k, v] of mapEntries(value)) {
          ran = true;
          if (!iteration(k, v)) break;
        }
      } else if (typeof value === 'number' && Number.isInteger(value)) {
        // Go 1.22: range over an int counts from 0.
        if (node.pipe.decl.length > 1) this.fail(`can't use ${value} to iterate over more than one variable`);
        for (let i = 0; i < value; i++) {
          ran = true;
          if (!iteration(i, i)) break;
        }
      } else if (value !== undefined && value !== null) {
        // nil and missing values range over nothing (Docker's nil slices and maps).
        this.setAt(node.pipe.pos, pipeText(node.pipe));
        this.fail(`range can't iterate over ${formatValue(value)}`);
      }
      if (!ran && node.elseList) this.walkList(node.elseList, dot);
    } finally {
      this.vars.length = mark;
    }
  }

  /** Sets the n-th variable from the top (Go's setTopVar), or an outer one for `range $i, $e = …`. */
  private setTopVar(n: number, isAssign: boolean, name: string, value: unknown): void {
    if (isAssign) {
      this.setVar(name, value);
      return;
    }
    const v = this.vars[this.vars.length - n];
    if (v) v.value = value;
  }

  private setVar(name: string, value: unknown): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const v = this.vars[i];
      if (v?.name === name) {
        v.value = value;
        return;
      }
    }
    this.fail(`undefined variable: ${name}`);
  }

  private varValue(name: string): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const v = this.vars[i];
      if (v?.name === name) return v.value;
    }
    this.fail(`undefined variable: ${name}`);
  }

  private evalPipeline(dot: unknown, pipe: Pipe): unknown {
    let value: unknown = MISSING;
    let first = true;
    for (const cmd of pipe.cmds) {
      value = this.evalCommand(dot, cmd, first ? { none: true } : { value });
      first = false;
    }
    for (const name of pipe.decl) {
      if (pipe.isAssign) this.setVar(name, value);
      else this.vars.push({ name, value });
    }
    return value;
  }

  private evalCommand(dot: unknown, cmd: Command, final: Final): unknown {
    const [first, ...rest] = cmd.args;
    if (!first) this.fail('empty command');
    switch (first.kind) {
      case 'field':
        return this.evalFieldChain(dot, dot, first, first.ident, rest, final);
      case 'chain': {
        const receiver = this.evalArg(dot, first.node);
        return this.evalFieldChain(dot, receiver, first, first.field, rest, final);
      }
      case 'variable': {
        const value = this.varValue(first.ident[0] ?? '$');
        if (first.ident.length === 1) {
          this.notAFunction(cmd, final);
          return value;
        }
        return this.evalFieldChain(dot, value, first, first.ident.slice(1), rest, final);
      }
      case 'identifier':
        return this.evalFunction(dot, first.name, cmd, rest, final);
      case 'pipe':
        this.notAFunction(cmd, final);
        return this.evalPipeline(dot, first.pipe);
      default:
        break;
    }
    this.notAFunction(cmd, final);
    this.setAt(first.pos, argString(first));
    switch (first.kind) {
      case 'bool': return first.value;
      case 'dot': return dot;
      case 'nil': return this.fail('nil is not a command');
      case 'number': return first.value;
      case 'string': return first.value;
    }
  }

  private notAFunction(cmd: Command, final: Final): void {
    const first = cmd.args[0];
    if (first && (cmd.args.length > 1 || !('none' in final))) {
      this.setAt(first.pos, argString(first));
      this.fail(`can't give argument to non-function ${argString(first)}`);
    }
  }

  private evalFieldChain(dot: unknown, receiver: unknown, node: Arg, ident: string[], args: Arg[], final: Final): unknown {
    this.setAt(node.pos, argString(node));
    let value = receiver;
    ident.forEach((name, i) => {
      const last = i === ident.length - 1;
      value = this.evalField(name, value, last && (args.length > 0 || !('none' in final)));
    });
    void dot;
    return value;
  }

  private evalField(name: string, receiver: unknown, hasArgs: boolean): unknown {
    // A missing value, or nil (a nil map or pointer in Docker's structs), has no fields: <no value>.
    if (receiver === undefined || receiver === null) return MISSING;
    if (isMap(receiver)) {
      if (hasArgs) this.fail(`${name} is not a method but has arguments`);
      const v = Object.hasOwn(receiver, name) ? receiver[name] : undefined;
      return v;
    }
    this.fail(`can't evaluate field ${name} in type ${goType(receiver)}`);
  }

  private evalFunction(dot: unknown, name: string, cmd: Command, args: Arg[], final: Final): unknown {
    this.setAt(cmd.pos, commandString(cmd));
    const fn = this.funcs[name];
    if (!fn) this.fail(`"${name}" is not a defined function`);
    const count = args.length + ('none' in final ? 0 : 1);
    if (count < fn.min || (fn.max !== undefined && count > fn.max)) {
      const want = fn.max === undefined ? `at least ${fn.min}` : fn.min === fn.max ? String(fn.min) : `${fn.min} to ${fn.max}`;
      this.fail(`wrong number of args for ${name}: want ${want} got ${count}`);
    }
    const withFinal = (values: unknown[]): unknown[] => ('none' in final ? values : [...values, final.value]);
    if (name === 'and' || name === 'or') {
      // Short-circuit, as Go 1.18+: stop at the first argument that decides.
      const all: (Arg | { final: unknown })[] = 'none' in final ? args : [...args, { final: final.value }];
      let value: unknown = MISSING;
      for (const a of all) {
        value = 'final' in a ? a.final : this.evalArg(dot, a);
        if (truth(value) === (name === 'or')) return value;
      }
      return value;
    }
    const values = withFinal(args.map((a) => this.evalArg(dot, a))).map((v) => (v === undefined ? null : v));
    this.setAt(cmd.pos, commandString(cmd));
    try {
      return fn.call(values);
    } catch (err) {
      if (err instanceof FuncError) this.fail(`error calling ${name}: ${err.message}`);
      throw err;
    }
  }

  private evalArg(dot: unknown, arg: Arg): unknown {
    switch (arg.kind) {
      case 'dot': return dot;
      case 'nil': return null;
      case 'bool': return arg.value;
      case 'number': return arg.value;
      case 'string': return arg.value;
      case 'field': return this.evalFieldChain(dot, dot, arg, arg.ident, [], { none: true });
      case 'variable': {
        const value = this.varValue(arg.ident[0] ?? '$');
        return arg.ident.length === 1 ? value : this.evalFieldChain(dot, value, arg, arg.ident.slice(1), [], { none: true });
      }
      case 'chain': return this.evalFieldChain(dot, this.evalArg(dot, arg.node), arg, arg.field, [], { none: true });
      case 'pipe': return this.evalPipeline(dot, arg.pipe);
      case 'identifier': return this.evalFunction(dot, arg.name, { pos: arg.pos, args: [arg] }, [], { none: true });
    }
  }
}

/** The value a command passes on: none for the first command of a pipeline. */
type Final = { none: true } | { value: unknown };

function pipeText(pipe: Pipe): string {
  return pipe.cmds.map(commandString).join(' | ');
}

/** What an action prints: Go's <no value> for a missing value, fmt's %v otherwise. */
function printable(v: unknown): string {
  return v === undefined ? '<no value>' : formatValue(v);
}
