import { describe, expect, it, vi } from 'vitest';
import { main } from './perfpilot.ts';

/** run runs `perfpilot ARGS` in-process and returns its exit code and what it wrote to stderr. */
async function run(args: string[]): Promise<{ code: number; stderr: string }> {
  const errors: string[] = [];
  // Commander writes usage errors to stderr; runProgram reports the others with console.error.
  const logged = vi.spyOn(console, 'error').mockImplementation((...parts: unknown[]) => {
    errors.push(parts.join(' '));
  });
  const original = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string) => {
    errors.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    return { code: await main(['node', 'perfpilot', ...args]), stderr: errors.join('') };
  } finally {
    process.stderr.write = original;
    logged.mockRestore();
  }
}

describe('perfpilot doctor and init arguments', () => {
  it.each([
    [['doctor'], /name one profile: NAMESPACE\/NAME or --profile FILE/],
    [['doctor', 'shop/api', '--profile', 'p.yaml'], /name one profile/],
    [['doctor', 'shop'], /expected NAMESPACE\/NAME/],
    [['init'], /required option '--deployment <namespace\/name>' not specified/],
    [['init', '--deployment', 'api'], /expected NAMESPACE\/NAME/],
    [
      ['init', '--deployment', 'shop/api', '--prometheus', 'prometheus:9090'],
      /expected an http:\/\/ or https:\/\/ URL/,
    ],
  ])('perfpilot %s is refused before anything is read', async (args, message) => {
    const { code, stderr } = await run(args);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(message);
  });
});
