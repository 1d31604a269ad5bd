// One Docker step of the agent's full pass: keep each overlay's Docker
// network as planned, and report the engine's state and its containers.
// The engine may be absent, appear later or restart; none of that is a
// failure of the overlay, only a mismatch vxnet cannot fix is.

import type { ContainerInfo, EngineState } from '../../api/types.js';
import type { DockerEngine } from './engine.js';
import { describeEngineError } from './engine.js';
import { dockerContainers, planDocker, type DockerNetworkSpec, type DockerOp } from './networks.js';

/** What the agent's loop uses of an engine (a fake stands in for it in unit tests). */
export type DockerPort = Pick<DockerEngine, 'endpoint' | 'version' | 'networks' | 'createNetwork' | 'removeNetwork' | 'followEvents'>;

export interface DockerStepResult {
  state: EngineState;
  containers: ContainerInfo[];
  /** Per overlay: what makes it STATUS_FAILED. */
  failures: { scope: string; message: string }[];
  warnings: string[];
}

const opText = (op: DockerOp): string =>
  op.kind === 'create' ? `create Docker network ${op.spec.name}` : `remove Docker network ${op.name} (${op.reason})`;

/**
 * `desired` is the agent's parsed allocation (`Self.docker`), `overlays` all
 * of its overlay names. `blocked` holds overlays whose bridge is not in
 * place (or that are resting after failures): their networks are left as
 * they are this pass.
 */
export async function dockerStep(
  engine: DockerPort | undefined,
  wanted: { desired: DockerNetworkSpec[]; overlays: ReadonlySet<string> },
  options: { blocked: ReadonlySet<string>; log: (message: string) => void },
): Promise<DockerStepResult> {
  if (!engine) return { state: { status: 'disabled' }, containers: [], failures: [], warnings: [] };
  let version: string;
  try {
    version = await engine.version();
  } catch (err) {
    const detail = describeEngineError(engine.endpoint, err);
    return {
      state: { status: detail.startsWith('not found') ? 'not found' : 'error', detail },
      containers: [],
      failures: [],
      warnings: [],
    };
  }
  const { desired, overlays } = wanted;
  const failures: { scope: string; message: string }[] = [];
  try {
    const observed = await engine.networks(overlays);
    const planned = planDocker(
      desired.filter((s) => !options.blocked.has(s.name)),
      observed,
    );
    const blockedOps = (op: DockerOp): boolean => options.blocked.has(op.kind === 'create' ? op.spec.name : op.name);
    failures.push(...planned.problems.map((p) => ({ scope: p.scope ?? '', message: p.message })));
    for (const op of planned.ops) {
      if (blockedOps(op)) continue;
      try {
        if (op.kind === 'create') await engine.createNetwork(op.spec);
        else await engine.removeNetwork(op.id);
        options.log(opText(op));
      } catch (err) {
        const scope = op.kind === 'create' ? op.spec.name : op.name;
        failures.push({ scope, message: `${opText(op)}: ${err instanceof Error ? err.message : String(err)}` });
      }
    }
    const after = planned.ops.length > 0 ? await engine.networks(overlays) : observed;
    const detail = planned.warnings.join('; ');
    return {
      state: { status: 'ok', version, ...(detail && { detail }) },
      containers: dockerContainers(after, overlays),
      failures,
      warnings: planned.warnings,
    };
  } catch (err) {
    // The engine went away mid-pass: reported, retried on the next pass.
    return {
      state: { status: 'error', version, detail: describeEngineError(engine.endpoint, err) },
      containers: [],
      failures,
      warnings: [],
    };
  }
}
