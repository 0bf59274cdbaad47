import type { StigmerHome } from '../home/StigmerHome.js';
import type { CommandName, ParsedArgs, commandDefinitions } from './definitions.js';

export interface CommandContext {
	/** arguments after the command words (`server logs -f api` → `['-f', 'api']`) */
	argv: string[];
	home: StigmerHome;
	/** colour and spinners allowed (a TTY, no --no-color, no NO_COLOR) */
	color: boolean;
	stdout: NodeJS.WriteStream;
	stderr: NodeJS.WriteStream;
}

/** The arguments of command N, parsed by meow from its definition (definitions.ts). */
export type CommandArgs<N extends CommandName> = ParsedArgs<(typeof commandDefinitions)[N]['flags']>;

/** A command's module exports one as its default; main.ts has already handled --help and usage errors. */
export type Command<N extends CommandName> = (ctx: CommandContext, args: CommandArgs<N>) => Promise<number>;
