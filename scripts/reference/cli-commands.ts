/**
 * The CLI reference: every `perfpilot` command with its arguments and options, read from the
 * commander definitions `buildProgram()` registers, and the help text each adds after its
 * options (examples, exit status), as `--help` prints it.
 */
import type { Argument, Command, Option } from 'commander';
import { cell, code, generatedNote, table } from './markdown.ts';

/** commandPath is the full name a user types: `perfpilot synth`. */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** allCommands lists `program` and every command below it, depth first, hidden ones left out. */
export function allCommands(program: Command): Command[] {
  const hidden = (c: Command) => (c as unknown as { _hidden?: boolean })._hidden === true;
  return [program, ...program.commands.filter((c) => !hidden(c)).flatMap(allCommands)];
}

/** defaultOf renders a default as commander's help does: its description, or the value as JSON. */
function defaultOf(item: Option | Argument): string {
  if (item.defaultValueDescription !== undefined) return code(item.defaultValueDescription);
  if (item.defaultValue === undefined) return '';
  return code(JSON.stringify(item.defaultValue));
}

/** optionRow is one option: flags, default, and description with its choices, env var and whether it must be given. */
export function optionRow(option: Option): string[] {
  const notes: string[] = [];
  if (option.argChoices) notes.push(`one of: ${option.argChoices.map((c) => code(c)).join(', ')}`);
  if (option.envVar) notes.push(`env: ${code(option.envVar)}`);
  if (option.mandatory) notes.push('required');
  const description = [cell(option.description), ...notes].filter((s) => s !== '').join('<br>');
  return [code(option.flags), defaultOf(option), description];
}

/** argumentRow is one positional argument: name as in the usage line, default, description. */
export function argumentRow(argument: Argument): string[] {
  const name = `${argument.name()}${argument.variadic ? '...' : ''}`;
  const notes: string[] = [];
  if (argument.argChoices) notes.push(`one of: ${argument.argChoices.map((c) => code(c)).join(', ')}`);
  const description = [cell(argument.description), ...notes].filter((s) => s !== '').join('<br>');
  return [code(argument.required ? `<${name}>` : `[${name}]`), defaultOf(argument), description];
}

/**
 * helpTextAround returns what `addHelpText` puts before and after a command's own help: commander
 * writes them around `helpInformation()`, so the help is captured whole and that part cut out.
 */
export function helpTextAround(command: Command): { before: string; after: string } {
  const chunks: string[] = [];
  const saved = command.configureOutput();
  command.configureOutput({ ...saved, writeOut: (s) => chunks.push(s), writeErr: (s) => chunks.push(s) });
  try {
    command.outputHelp();
  } finally {
    command.configureOutput(saved);
  }
  const whole = chunks.join('');
  const own = command.helpInformation();
  const at = whole.indexOf(own);
  if (at < 0) return { before: '', after: '' };
  return { before: whole.slice(0, at).trim(), after: whole.slice(at + own.length).trim() };
}

/** commandSection renders one command: usage, description, arguments, options, extra help. */
export function commandSection(command: Command): string {
  // A description of several lines is laid out for the terminal (lists, aligned columns): it
  // keeps its lines, as `--help` prints them.
  const description = command.description();
  const parts = [
    `## ${commandPath(command)}`,
    description.includes('\n') ? ['```text', description, '```'].join('\n') : cell(description),
  ];
  parts.push(['```text', `${commandPath(command)} ${command.usage()}`, '```'].join('\n'));
  const args = command.registeredArguments.map(argumentRow);
  if (args.length > 0) parts.push(table(['Argument', 'Default', 'Description'], args));
  const options = command.options.filter((o) => !o.hidden).map(optionRow);
  if (options.length > 0) parts.push(table(['Option', 'Default', 'Description'], options));
  const subcommands = command.commands.map(
    (c) => `[${commandPath(c)}](#${commandPath(c).toLowerCase().replaceAll(' ', '-')})`,
  );
  if (subcommands.length > 0) parts.push(`Commands: ${subcommands.join(', ')}.`);
  const { before, after } = helpTextAround(command);
  for (const text of [before, after]) {
    if (text !== '') parts.push(['```text', text, '```'].join('\n'));
  }
  return parts.join('\n\n');
}

/** cliReference renders docs/reference/cli.md from the program `buildProgram()` returns. */
export function cliReference(program: Command): string {
  const sections = [
    generatedNote('the commander definitions of `perfpilot` (`buildProgram()` in cli/perfpilot.ts)'),
    `# ${program.name()} command reference`,
    `Every command also takes \`-h, --help\`. Run it as \`npx ${program.name()} <command>\` in this repository, or \`${program.name()} <command>\` in the image.`,
    ...allCommands(program).map(commandSection),
  ];
  return `${sections.join('\n\n')}\n`;
}
