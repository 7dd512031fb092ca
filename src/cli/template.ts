// Go templates for --format and inspect -f, as Docker's CLI has them: Go's text/template
// language (gotemplate/: lexer, parser, executor, Go's fmt) with Docker's functions (json,
// join, split, upper, lower, title, truncate, pad). A literal \t or \n in the template's text is
// a tab or a newline, as Docker's CLI makes it.
import { MinictrError } from '../base/errors.js';
import { Executor, TemplateExecError } from './gotemplate/exec.js';
import { BUILTINS, DOCKER_FUNCS, DOCKER_HEADER_FUNCS, type TemplateFunc } from './gotemplate/funcs.js';
import { TemplateSyntaxError } from './gotemplate/lex.js';
import { parse, type TemplateNode } from './gotemplate/parse.js';

/** Docker exits 64 when a --format template does not parse. */
export const EXIT_TEMPLATE_PARSE = 64;
/** …and 1 when it fails while running (docker inspect's status for a failed element). */
export const EXIT_TEMPLATE_EXEC = 1;

export interface RenderOptions {
  /** A table's header row: Docker's HeaderFunctions keep the column names (upper, json … return their argument). */
  header?: boolean;
}

export interface Template {
  readonly source: string;
  execute(value: unknown, options?: RenderOptions): string;
}

const FUNCS: Record<string, TemplateFunc> = { ...BUILTINS, ...DOCKER_FUNCS };
const HEADER_FUNCS: Record<string, TemplateFunc> = { ...BUILTINS, ...DOCKER_HEADER_FUNCS };

/**
 * Parse a template once; throws a MinictrError (E_BAD_TEMPLATE, exit 64) with Go's message,
 * `template parsing error: template: :1: unexpected "}" in operand`, when it does not parse.
 */
export function compileTemplate(source: string): Template {
  let tree: TemplateNode[];
  try {
    tree = parse(source, (name) => Object.hasOwn(FUNCS, name));
  } catch (err) {
    if (err instanceof TemplateSyntaxError) {
      throw new MinictrError('E_BAD_TEMPLATE', `template parsing error: ${err.message}`, { exitCode: EXIT_TEMPLATE_PARSE, cause: err });
    }
    throw err;
  }
  return {
    source,
    execute(value: unknown, options: RenderOptions = {}): string {
      try {
        return new Executor(source, options.header ? HEADER_FUNCS : FUNCS, value).run(tree, value);
      } catch (err) {
        if (err instanceof TemplateExecError) {
          throw new MinictrError('E_TEMPLATE_FAILED', err.message, { exitCode: EXIT_TEMPLATE_EXEC, cause: err });
        }
        throw err;
      }
    },
  };
}

/** Render `value` through a template (parse errors exit 64, execution errors 1). */
export function renderTemplate(source: string, value: unknown, options: RenderOptions = {}): string {
  return compileTemplate(source).execute(value, options);
}
