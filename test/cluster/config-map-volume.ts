/**
 * A directory laid out as the kubelet mounts a ConfigMap volume: each key is a symlink through
 * `..data`, which points at a versioned directory and is swapped atomically (rename of a new
 * symlink) on every update. Tests and demos write the tuning ConfigMap's data here for the risk
 * API's TUNING_CONFIG_DIR, so the API sees updates exactly as it would in a pod.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A ConfigMap volume on disk. */
export interface ConfigMapVolume {
  readonly dir: string;
  /** update replaces the data as the kubelet does: new version directory, then one atomic rename. */
  update(data: Readonly<Record<string, string>>): void;
  /** remove deletes the directory. */
  remove(): void;
}

/** configMapVolume creates the volume with `data`, in a new temporary directory. */
export function configMapVolume(data: Readonly<Record<string, string>>): ConfigMapVolume {
  const dir = mkdtempSync(join(tmpdir(), 'perfpilot-configmap-'));
  let generation = 0;
  const keys = new Set<string>();
  const update = (values: Readonly<Record<string, string>>) => {
    const version = `..${new Date().toISOString().replaceAll(':', '_')}.${generation++}`;
    mkdirSync(join(dir, version));
    for (const [k, v] of Object.entries(values)) writeFileSync(join(dir, version, k), v);
    symlinkSync(version, join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    for (const key of Object.keys(values)) {
      if (!keys.has(key)) symlinkSync(join('..data', key), join(dir, key));
      keys.add(key);
    }
  };
  update(data);
  return { dir, update, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
