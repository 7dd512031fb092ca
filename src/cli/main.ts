// minictr's entry point: build the program, run it, turn errors into one line and an exit code.
import { CommanderError } from 'commander';
import { MinictrError, EXIT_RUNTIME_FAILURE } from '../base/errors.js';
import { createProgram } from './program.js';
import { warn } from './context.js';

async function main(argv: string[]): Promise<number> {
  const program = createProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      if (err.exitCode === 0) return 0;
      return EXIT_RUNTIME_FAILURE;
    }
    if (err instanceof MinictrError) {
      warn(err.warnings);
      process.stderr.write(`minictr: ${err.message}\n`);
      if (process.env['MINICTR_DEBUG'] && err.cause) process.stderr.write(`${String(err.cause)}\n`);
      return err.exitCode;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`minictr: ${message}\n`);
    if (process.env['MINICTR_DEBUG'] && err instanceof Error) process.stderr.write(`${err.stack ?? ''}\n`);
    return EXIT_RUNTIME_FAILURE;
  }
}

void main(process.argv).then((code) => {
  process.exitCode = code;
});
