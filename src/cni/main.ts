// bin/minictr-cni: a CNI plugin of type "minictr". The runtime (containerd, CRI-O, podman)
// sets CNI_* and writes the network config on stdin; the result or a CNI error goes to stdout.
import { appendFileSync, readFileSync } from 'node:fs';
import type { StepReport } from '../base/plan.js';
import { formatStep } from '../explain/render.js';
import { HostRunner } from '../exec/runner.js';
import { decodeConfig, parseConfig, parseEnv, versionOf, type CniEnv, type PluginConfig } from './config.js';
import { CNI_CODES, CniError, asCniError, errorJson } from './errors.js';
import { add, check, del, gc, status, type PluginContext } from './plugin.js';
import { versionResult } from './result.js';

function readStdin(): string {
  try {
    return readFileSync(0, 'utf8');
  } catch (err) {
    throw new CniError(CNI_CODES.io, `could not read the network config on stdin: ${(err as Error).message}`);
  }
}

/** The command's answer on stdout: a result for ADD and VERSION, nothing for the others. */
async function dispatch(env: CniEnv, conf: PluginConfig, steps: StepReport[]): Promise<unknown> {
  const ctx: PluginContext = { runner: new HostRunner(), env, onStep: (r) => steps.push(r) };
  switch (env.command) {
    case 'ADD':
      return add(ctx, conf);
    case 'DEL':
      return del(ctx, conf);
    case 'CHECK':
      return check(ctx, conf);
    case 'GC':
      return gc(ctx, conf);
    case 'STATUS':
      return status(conf).catch((err: unknown) => {
        const e = asCniError(err);
        throw e.code === CNI_CODES.unavailable ? e : new CniError(CNI_CODES.unavailable, e.message, e.details);
      });
    case 'VERSION':
      return versionResult();
  }
}

/** --explain's form, appended: what one command applied, so a person can see what a pod's network setup did. */
function writeExplain(path: string, env: CniEnv, conf: PluginConfig, steps: StepReport[], failure?: CniError): void {
  if (steps.length === 0 && !failure) return;
  const head = `# minictr-cni ${env.command} container ${env.containerId} ${env.ifname} network ${conf.name} (${new Date().toISOString()})`;
  const tail = failure ? [`# failed: ${failure.message}`] : [];
  try {
    appendFileSync(path, [head, ...steps.map(formatStep), ...tail, ''].join('\n'));
  } catch {
    // the explanation is a courtesy: the network was set up either way
  }
}

async function main(): Promise<number> {
  let version = versionOf(undefined);
  let explain: { conf: PluginConfig; env: CniEnv } | undefined;
  const steps: StepReport[] = [];
  try {
    const env = parseEnv(process.env);
    const text = readStdin();
    if (env.command === 'VERSION') {
      process.stdout.write(`${JSON.stringify(versionResult())}\n`);
      return 0;
    }
    const raw = decodeConfig(text);
    version = versionOf(raw);
    const conf = parseConfig(raw, env, process.env['MINICTR_CNI_EXPLAIN']);
    if (conf.explain) explain = { conf, env };
    const out = await dispatch(env, conf, steps);
    if (explain && conf.explain) writeExplain(conf.explain, env, conf, steps);
    if (out !== undefined) process.stdout.write(`${JSON.stringify(out)}\n`);
    return 0;
  } catch (err) {
    const e = asCniError(err);
    if (explain?.conf.explain) writeExplain(explain.conf.explain, explain.env, explain.conf, steps, e);
    process.stdout.write(errorJson(e, version));
    return 1;
  }
}

void main().then((code) => {
  process.exitCode = code;
});
