/**
 * A bench setting out of range (an environment variable the user set). `bench/run.ts` prints its
 * message without a stack and exits 2; any other error is a bug and keeps its stack.
 */
export class BenchSettingError extends Error {
  override readonly name = 'BenchSettingError';
}
