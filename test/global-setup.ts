/**
 * Vitest global setup: every temporary file of a test run goes under one directory that is
 * removed when the run ends, whatever made it (cdk8s's Testing.app(), for one, leaves an output
 * directory per chart in the system temp directory).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'perfpilot-test-run-'));
  // Workers start after this and inherit the environment, so os.tmpdir() points here in them too.
  process.env.TMPDIR = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
