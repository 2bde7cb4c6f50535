/**
 * `r2talker`: the command-line face of the engine (Node only). Each subcommand lives in
 * cli/commands/<name>.ts and registers itself on the program.
 */
import { Command, CommanderError } from 'commander';
import { R2TalkerError } from '../worker/errors.ts';
import { registerCommands } from './commands/index.ts';

const program = new Command();
program
  .name('r2talker')
  .description('R2 Talker Live: import, inspect and render R2-Talker talking-head avatars')
  .showHelpAfterError()
  .exitOverride();

registerCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  if (err instanceof R2TalkerError) {
    process.stderr.write(`r2talker: error [${err.code}] ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`r2talker: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}
