/**
 * The operator's bundle (`npm run bundle` → dist/operator.js; cli/operator-main.ts says why): one
 * ES module for Node 24 with every dependency inlined, whitespace and comments removed and
 * non-ASCII escaped (V8 then stores the source as one byte per character), names kept as written
 * so stack traces and logs read as the sources do. The dependencies' licences stay in the image's
 * node_modules. The benchmark and the operator's process tests build it afresh with
 * `operatorBundleOptions` (scripts/operator-bundle.ts), so they never run a stale one.
 */
import { fileURLToPath } from 'node:url';
import { type BuildOptions, defineConfig } from 'rolldown';
import { OPERATOR_BUNDLE } from './operator/src/node-flags.ts';

/** operatorBundleOptions are rolldown's options for the bundle, written to `file`. */
export function operatorBundleOptions(file: string = OPERATOR_BUNDLE): BuildOptions {
  return {
    input: fileURLToPath(new URL('./cli/operator-main.ts', import.meta.url)),
    cwd: fileURLToPath(new URL('.', import.meta.url)),
    platform: 'node',
    logLevel: 'warn',
    output: {
      file,
      format: 'esm',
      codeSplitting: false,
      charset: 'ascii',
      keepNames: true,
      comments: false,
      minify: { compress: false, mangle: false, codegen: { removeWhitespace: true } },
    },
  };
}

export default defineConfig(operatorBundleOptions());
