/**
 * buildOperatorBundle writes the operator's bundle (rolldown.config.ts) to `file`: the benchmark
 * and the operator's process tests run the operator as the image does, from a bundle of the
 * sources as they are now.
 */
import { build } from 'rolldown';
import { operatorBundleOptions } from '../rolldown.config.ts';

export async function buildOperatorBundle(file: string): Promise<string> {
  await build(operatorBundleOptions(file));
  return file;
}
