// The errors minictr shows its user: one line, a stable code, Docker's exit status.

/** Docker's convention: 125 when the runtime itself fails. */
export const EXIT_RUNTIME_FAILURE = 125;
/** The container's command exists but cannot be invoked. */
export const EXIT_CANNOT_INVOKE = 126;
/** The container's command was not found. */
export const EXIT_NOT_FOUND = 127;

export class MinictrError extends Error {
  readonly code: string;
  readonly exitCode: number;
  /** Said before the error: what a failed command could not clean up, and how to. */
  readonly warnings: string[] = [];

  constructor(code: string, message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'MinictrError';
    this.code = code;
    this.exitCode = options.exitCode ?? EXIT_RUNTIME_FAILURE;
  }
}

/** A host command (ip, iptables, mount …) failed; carries what ran and what it said. */
export class CommandFailedError extends MinictrError {
  readonly argv: readonly string[];
  readonly stderr: string;
  readonly commandExitCode: number | undefined;

  constructor(argv: readonly string[], commandExitCode: number | undefined, stderr: string) {
    const lines = stderr.trim().split('\n').filter(Boolean);
    // nft ends with the failing statement and a ^^^ marker under it: its "Error:" line says why.
    const said = lines.filter((l) => l.startsWith('Error:')).pop() ?? lines.pop() ?? '';
    super(
      'E_COMMAND_FAILED',
      `${argv.join(' ')} failed (exit ${commandExitCode ?? 'signal'})${said ? `: ${said}` : ''}`,
    );
    this.argv = argv;
    this.stderr = stderr;
    this.commandExitCode = commandExitCode;
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The error a command fails with, carrying warnings about what its clean-up left behind
 * (an error that is not minictr's own is wrapped, so the warnings are not lost).
 */
export function withWarnings(err: unknown, warnings: string[]): unknown {
  if (warnings.length === 0) return err;
  const carrier = err instanceof MinictrError ? err : new MinictrError('E_FAILED', errorMessage(err), { cause: err });
  carrier.warnings.push(...warnings);
  return carrier;
}
