// The commander tree: global options and one registration per command group.
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { registerContainerCommands } from './containers.js';
import { registerNetworkCommands } from './network.js';
import { registerImageCommands } from './images.js';
import { registerShowWorkCommands } from './show-work.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function createProgram(): Command {
  const program = new Command('minictr');
  program
    .description('A Docker-compatible minimal container runtime that shows its work.')
    .version(`minictr version ${version()}`, '-v, --version', 'print the version')
    .option('--root <dir>', 'state directory (default /var/lib/minictr, or $MINICTR_ROOT)')
    .enablePositionalOptions()
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(`minictr: ${str.replace(/^error: /, '')}`) });
  registerContainerCommands(program);
  registerImageCommands(program);
  registerNetworkCommands(program);
  registerShowWorkCommands(program);
  // Every subcommand reports errors the same way and never exits on its own.
  for (const cmd of program.commands) {
    cmd.exitOverride().configureOutput({ outputError: (str, write) => write(`minictr: ${str.replace(/^error: /, '')}`) });
  }
  return program;
}
