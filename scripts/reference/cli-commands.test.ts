import { Command, Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../cli/perfpilot.ts';
import { allCommands, cliReference, commandPath, commandSection, helpTextAround } from './cli-commands.ts';

/** A program with one of each thing a definition can hold. */
function sample(): Command {
  const program = new Command('tool').description('does things');
  program
    .command('run')
    .description('runs a thing')
    .argument('<file>', 'the file to run')
    .argument('[rest...]', 'more files')
    .option('-n, --count <n>', 'how many | at most 9', '3')
    .addOption(new Option('--mode <mode>', 'how').choices(['fast', 'safe']).env('TOOL_MODE'))
    .requiredOption('--target <name>', 'where to')
    .addOption(new Option('--secret', 'not for users').hideHelp())
    .addHelpText('after', '\nExamples:\n  tool run a.yaml --target x');
  program.command('hidden', { hidden: true });
  return program;
}

describe('commandSection', () => {
  const run = sample().commands.find((c) => c.name() === 'run') as Command;
  const section = commandSection(run);

  it('gives the usage line as a user types it', () => {
    expect(section).toContain('```text\ntool run [options] <file> [rest...]\n```');
  });

  it('lists each argument and whether it is required', () => {
    expect(section).toContain('| `<file>` |  | the file to run |');
    expect(section).toContain('| `[rest...]` |  | more files |');
  });

  it('lists each option with its default, choices, env var and whether it must be given', () => {
    expect(section).toContain('| `-n, --count <n>` | `"3"` | how many \\| at most 9 |');
    expect(section).toContain('| `--mode <mode>` |  | how<br>one of: `fast`, `safe`<br>env: `TOOL_MODE` |');
    expect(section).toContain('| `--target <name>` |  | where to<br>required |');
  });

  it('leaves hidden options out', () => {
    expect(section).not.toContain('--secret');
  });

  it('keeps the help text added after the options', () => {
    expect(section).toContain('```text\nExamples:\n  tool run a.yaml --target x\n```');
  });
});

describe('allCommands', () => {
  it('walks every command below the program and leaves hidden ones out', () => {
    expect(allCommands(sample()).map(commandPath)).toEqual(['tool', 'tool run']);
  });
});

describe('helpTextAround', () => {
  it('writes nothing to the terminal while it captures', () => {
    const program = sample();
    const written: string[] = [];
    program.configureOutput({ writeOut: (s) => written.push(s) });
    helpTextAround(program);
    program.outputHelp();
    expect(written.join('')).toContain('Usage: tool');
    expect(written).toHaveLength(1);
  });
});

describe('cliReference', () => {
  const program = buildProgram();
  const page = cliReference(program);

  it('has a section for every perfpilot command', () => {
    const missing = allCommands(program)
      .map(commandPath)
      .filter((path) => !page.includes(`\n## ${path}\n`));
    expect(allCommands(program).length).toBeGreaterThan(5);
    expect(missing).toEqual([]);
  });

  it('lists every option of every command', () => {
    const missing = allCommands(program).flatMap((c) =>
      c.options
        .filter((o) => !o.hidden && !page.includes(`| \`${o.flags}\` |`))
        .map((o) => `${c.name()} ${o.flags}`),
    );
    expect(missing).toEqual([]);
  });

  it("shows synth's exit status, as --help does", () => {
    expect(page).toContain('Exit status: 0 done, 1 --check found stale files');
  });
});
