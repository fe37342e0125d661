/**
 * KEDA's ScaledObject CRD, as KEDA ships it: the YAML in its Go module (`config/crd/bases/`),
 * fetched through the Go module proxy into the module cache, installed on the test API server
 * with kubectl. KEDA's operator itself is not built or run here (see docs/development.md, "KEDA").
 */
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ApiextensionsV1Api } from '@kubernetes/client-node';
import type { ControlPlane } from '../cluster/control-plane.ts';
import { waitFor } from '../cluster/processes.ts';

const run = promisify(execFile);

/** KEDA_MODULE is KEDA's Go module; KEDA_VERSION the release whose CRD the tests install. */
export const KEDA_MODULE = 'github.com/kedacore/keda/v2';
export const KEDA_VERSION = 'v2.20.2';
/** The ScaledObject CRD's name. */
export const SCALED_OBJECT_CRD = 'scaledobjects.keda.sh';

/** scaledObjectCrdPath downloads KEDA's module (once; the module cache keeps it) and returns the CRD file. */
export async function scaledObjectCrdPath(): Promise<string> {
  // Outside any go.mod, so the download does not touch a module of this repository.
  const { stdout } = await run('go', ['mod', 'download', '-json', `${KEDA_MODULE}@${KEDA_VERSION}`], {
    cwd: tmpdir(),
    maxBuffer: 1024 * 1024,
  });
  const { Dir, Error: error } = JSON.parse(stdout) as { Dir?: string; Error?: string };
  if (!Dir) throw new Error(`go mod download ${KEDA_MODULE}@${KEDA_VERSION}: ${error ?? 'no directory'}`);
  return join(Dir, 'config/crd/bases/keda.sh_scaledobjects.yaml');
}

/** installScaledObjectCrd applies KEDA's ScaledObject CRD and waits until it is Established. */
export async function installScaledObjectCrd(cp: ControlPlane): Promise<void> {
  await cp.kubectl([
    'apply',
    '--server-side',
    '--field-manager=keda-test',
    '-f',
    await scaledObjectCrdPath(),
  ]);
  const api = cp.kubeConfig.makeApiClient(ApiextensionsV1Api);
  await waitFor(
    `${SCALED_OBJECT_CRD} Established`,
    async () => {
      const got = await api.readCustomResourceDefinition({ name: SCALED_OBJECT_CRD });
      return got.status?.conditions?.find((c) => c.type === 'Established')?.status === 'True' || undefined;
    },
    { timeoutMs: 20_000 },
  );
}
