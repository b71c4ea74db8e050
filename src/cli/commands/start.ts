/** `vis-agn start` (what `npm start` runs): until the pipeline exists, it says what is available. */

import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('start')
    .description('show what vis-agn can do so far')
    .action(() => {
      const commands = program.commands.filter((c) => c.name() !== 'start');
      const width = Math.max(...commands.map((c) => c.name().length));
      const lines = commands.map((c) => `  ${c.name().padEnd(width)}  ${c.description()}`);
      process.stdout.write(
        [
          'vis-agn: the detection pipeline is not assembled yet. Available now:',
          ...lines,
          `Run \`vis-agn <command> --help\` for details.`,
          '',
        ].join('\n'),
      );
    });
}
