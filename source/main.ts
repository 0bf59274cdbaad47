// The CLI: global flags, --help/--version, and dispatch to one lazily loaded command module,
// so a command loads only what it uses (non-UI commands never load Ink or React).
import { exitCodes } from './contract.js';
import { engineRefusal } from './engine/engineRefusals.js';
import { UserError, UsageError, errorMessage } from './errors.js';
import type { Command, CommandContext } from './commands/CommandContext.js';
import { type CommandName, commandDefinitions } from './commands/definitions.js';
import { helpPage } from './commands/helpPages.js';
import { parsePlainFlags } from './commands/plainFlags.js';

type Loader = () => Promise<{ default: Command<never> }>;

/** Each command's module, loaded only when it runs; its flags and help are in commands/definitions.ts. */
const commands: Record<CommandName, Loader> = {
	'server start': () => import('./commands/server/start.js'),
	'server stop': () => import('./commands/server/stop.js'),
	'server restart': () => import('./commands/server/restart.js'),
	'server status': () => import('./commands/server/status.js'),
	'server logs': () => import('./commands/server/logs.js'),
	dashboard: () => import('./commands/dashboard.js'),
	shell: () => import('./commands/shell.js'),
	run: () => import('./commands/run.js'),
	executions: () => import('./commands/executions.js'),
	doctor: () => import('./commands/doctor.js'),
	'image build': () => import('./commands/image/build.js'),
};

interface Globals {
	home?: string;
	noColor: boolean;
	help: boolean;
	version: boolean;
	rest: string[];
}

/** Takes the global flags out of argv wherever they stand before `--`; the rest goes to the command. */
export function splitGlobals(argv: string[]): Globals {
	const globals: Globals = { noColor: false, help: false, version: false, rest: [] };
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i]!;
		if (arg === '--') {
			globals.rest.push(...argv.slice(i));
			break;
		}
		if (arg === '--home') {
			const value = argv[++i];
			if (value === undefined || value === '') throw new UsageError('--home needs a directory');
			globals.home = value;
		} else if (arg.startsWith('--home=')) {
			globals.home = arg.slice('--home='.length);
		} else if (arg === '--no-color') {
			globals.noColor = true;
		} else {
			globals.rest.push(arg);
		}
	}
	return globals;
}

function findCommand(rest: string[]): { name: CommandName; argv: string[] } | null {
	const two = `${rest[0]} ${rest[1]}`;
	if (rest.length >= 2 && two in commands) return { name: two as CommandName, argv: rest.slice(2) };
	if (rest.length >= 1 && rest[0]! in commands) return { name: rest[0] as CommandName, argv: rest.slice(1) };
	return null;
}

async function printTopLevel(kind: 'help' | 'version', stdout: NodeJS.WriteStream): Promise<number> {
	if (kind === 'version') {
		const { packageVersion } = await import('./version.js');
		stdout.write(`${packageVersion}\n`);
		return exitCodes.ok;
	}
	stdout.write(`${await helpPage('stigmer')}\n`);
	return exitCodes.ok;
}

export async function main(argv: string[]): Promise<number> {
	if (argv[0] === '__supervisor') {
		const { main: supervise } = await import('./supervisor/supervisorMain.js');
		return supervise(argv.slice(1));
	}
	const globals = splitGlobals(argv);
	const rest = globals.rest;
	if (rest.length === 0 || rest[0] === '--help' || rest[0] === '-h' || rest[0] === 'help') return printTopLevel('help', process.stdout);
	if (rest[0] === '--version' || rest[0] === '-v') return printTopLevel('version', process.stdout);
	const found = findCommand(rest);
	if (!found) {
		const word = rest[0]!;
		if (word === 'server' || word === 'image') {
			const subs = Object.keys(commands)
				.filter((c) => c.startsWith(`${word} `))
				.map((c) => c.split(' ')[1]);
			throw new UsageError(rest[1] ? `unknown command "${word} ${rest[1]}"` : `"${word}" needs a subcommand`, `one of: ${subs.join(', ')}`);
		}
		throw new UsageError(`unknown command "${word}"`, 'see `stigmer --help`');
	}
	// a command's --help alone: the page the build rendered with meow, without loading meow
	if (found.argv.length === 1 && (found.argv[0] === '--help' || found.argv[0] === '-h')) {
		process.stdout.write(`${await helpPage(found.name)}\n`);
		return exitCodes.ok;
	}
	const definition = commandDefinitions[found.name];
	// meow (loaded only when needed) parses anything but an argv of plain boolean flags
	const parsed = parsePlainFlags(definition, found.argv) ?? (await import('./commands/parseCommand.js')).parseCommand(definition, found.argv);
	if (parsed.help !== null) {
		process.stdout.write(`${parsed.help}\n`);
		return exitCodes.ok;
	}
	const color = !globals.noColor && !('NO_COLOR' in process.env && process.env.NO_COLOR !== '') && process.stdout.isTTY === true;
	// the home's module loads the platform probes (ps, /proc, child_process): not for --help or usage errors
	const { StigmerHome } = await import('./home/StigmerHome.js');
	const ctx: CommandContext = {
		argv: found.argv,
		home: StigmerHome.resolve(globals.home),
		color,
		stdout: process.stdout,
		stderr: process.stderr,
	};
	const { default: command } = await commands[found.name]();
	return command(ctx, parsed as never);
}

export function reportError(error: unknown, stderr: NodeJS.WriteStream = process.stderr): number {
	// an engine's refusal is the engine's word (with the fix when it is a known one), not a bug of ours
	error = engineRefusal(error) ?? error;
	if (error instanceof UserError) {
		stderr.write(`stigmer: ${error.message}\n`);
		if (error.hint) stderr.write(`  ${error.hint.split('\n').join('\n  ')}\n`);
		return error.exitCode;
	}
	stderr.write(`stigmer: unexpected error: ${errorMessage(error)}\n`);
	if (process.env.STIGMER_DEBUG) stderr.write(`${(error as Error)?.stack ?? ''}\n`);
	else stderr.write('  this is a bug in stigmer; run again with STIGMER_DEBUG=1 for details and report it\n');
	return exitCodes.failure;
}
