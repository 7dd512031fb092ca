// The "show your work" commands: `net inspect`, `doctor`, `network diagram`.
import type { Command } from 'commander';
import { registerNetInspectCommand } from './net-inspect.js';
import { registerDoctorCommand } from './doctor.js';
import { registerDiagramCommand } from './diagram.js';

export function registerShowWorkCommands(program: Command): void {
  registerNetInspectCommand(program);
  registerDoctorCommand(program);
  registerDiagramCommand(program);
}
