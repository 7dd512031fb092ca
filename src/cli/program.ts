// The commander tree: global options and one registration per command group.
import { Command } from 'commander';
import { packageVersion } from '../base/install-paths.js';
import { registerContainerCommands } from './containers.js';
import { DEFAULT_HOST, serve, type ServeFlags } from './serve.js';
import { registerNetworkCommands } from './network.js';
import { registerTraceCommand } from './trace.js';
import { registerImageCommands } from './images.js';
import { registerShowWorkCommands } from './show-work.js';
import { registerVolumeCommands } from './volumes.js';
import { registerStatsCommand } from './stats.js';

export function createProgram(): Command {
  const program = new Command('minictr');
  program
    .description('A Docker-compatible minimal container runtime that shows its work.')
    .version(`minictr version ${packageVersion()}`, '-v, --version', 'print the version')
    .option('--root <dir>', 'state directory (default /var/lib/minictr, or $MINICTR_ROOT)')
    .enablePositionalOptions()
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(`minictr: ${str.replace(/^error: /, '')}`) });
  registerContainerCommands(program);
  registerImageCommands(program);
  registerNetworkCommands(program);
  registerTraceCommand(program);
  registerVolumeCommands(program);
  registerStatsCommand(program);
  program
    .command('serve')
    .description('serve the Docker Engine API, so docker, docker-compose and the SDKs drive minictr (foreground)')
    .option('-H, --host <url>', `where to listen: unix:///path or tcp://127.0.0.1:PORT`, DEFAULT_HOST)
    .option('--group <group>', 'let this group use the socket (mode 0660), as the docker group')
    .option('--insecure-listen-anywhere', 'allow TCP on a non-loopback address (the API is unauthenticated)')
    .action(async function (this: Command) {
      await serve(this, this.opts<ServeFlags>());
    });
  registerShowWorkCommands(program);
  // Every subcommand reports errors the same way and never exits on its own.
  for (const cmd of program.commands) {
    cmd.exitOverride().configureOutput({ outputError: (str, write) => write(`minictr: ${str.replace(/^error: /, '')}`) });
  }
  return program;
}
