import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.js';
import type { StigmerHome } from '../home/StigmerHome.js';

export interface CommandContext {
	/** arguments after the command words (`server logs -f api` → `['-f', 'api']`) */
	argv: string[];
	home: StigmerHome;
	/** colour and spinners allowed (a TTY, no --no-color, no NO_COLOR) */
	color: boolean;
	stdout: NodeJS.WriteStream;
	stderr: NodeJS.WriteStream;
}

export type Command = (ctx: CommandContext) => Promise<number>;

type Options = NonNullable<ParseArgsConfig['options']>;

/** node:util parseArgs with usage errors that name the command and point at its --help. */
export function parseCommandArgs<O extends Options>(ctx: CommandContext, name: string, options: O, allowPositionals = true) {
	try {
		return parseArgs({ args: ctx.argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals, strict: true });
	} catch (error) {
		const message = (error as Error).message.replace(/\. To specify a positional argument starting with a '-'.*$/s, '');
		throw new UsageError(`${name}: ${message}`, `see \`stigmer ${name} --help\``);
	}
}
