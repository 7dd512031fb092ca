// `minictr doctor`: prints the evaluation of the host's facts (exit 1 on a blocker).
import type { Command } from 'commander';
import { evaluate, exitCodeFor, renderFindings } from '../explain/doctor.js';
import { print, runtimeFor } from './context.js';

export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description('check this host for what minictr needs and what gets in its way (exit 1 on a blocker)')
    .option('--json', 'print the findings as JSON')
    .action(async function (this: Command, opts: { json?: boolean }) {
      const findings = evaluate(await runtimeFor(this, { inspectOnly: true }).doctorFacts());
      if (opts.json) print(JSON.stringify(findings, null, 2));
      else process.stdout.write(renderFindings(findings));
      if (exitCodeFor(findings) !== 0) process.exitCode = 1;
    });
}
