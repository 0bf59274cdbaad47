// Every command's one definition: its words, synopsis, help text and flags. meow parses the flags and
// lays out the help pages from it (commands/parseCommand.ts, at build time: helpPages.ts); `stigmer
// --help` lists the synopses. This module
// imports no command code, so `--help` and the dispatch in main.ts load none.
import { defaultTimeouts } from '../contract.js';

export interface FlagDefinition {
	type: 'boolean' | 'string';
	shortFlag?: string;
	isMultiple?: boolean;
	/** boolean flags only: the value when absent (`wait: true` makes `--no-wait` the flag users type) */
	default?: boolean;
	/** how the help shows the flag with its value: `--timeout S` */
	value?: string;
	/** one line of help; a flag without one is not listed */
	help?: string;
}

export type FlagDefinitions = Readonly<Record<string, FlagDefinition>>;

export interface CommandDefinition<F extends FlagDefinitions = FlagDefinitions> {
	/** the command words: `server logs` */
	name: string;
	/** arguments and flags after the words, as `stigmer --help` and the usage line show them */
	synopsis: string;
	/** one line for `stigmer --help` */
	summary: string;
	/** the command's help text after the usage line (options are listed from `flags`) */
	help: string;
	flags: F;
	/**
	 * `none`: no positional arguments; `any`: positionals anywhere among the flags; `command`: the
	 * first argument that is not a flag (or what follows `--`) starts a command line of its own.
	 */
	positionals: 'none' | 'any' | 'command';
}

function define<const F extends FlagDefinitions>(definition: CommandDefinition<F>): CommandDefinition<F> {
	return definition;
}

const timeoutFlag = (what: string) => ({ type: 'string', value: 'S', help: what }) as const;
const jsonFlag = (what: string) => ({ type: 'boolean', help: what }) as const;

const defaultStartTimeoutSeconds = defaultTimeouts.startSeconds;
const defaultStopTimeoutSeconds = defaultTimeouts.stopSeconds;

export const commandDefinitions = {
	'server start': define({
		name: 'server start',
		synopsis: '[SERVICE...] [--build] [--timeout S] [--no-wait]',
		summary: 'build if needed, start everything, wait until ready',
		help: `
Builds the agent-runner image when it is missing, starts the native services in order, then the
agent-runner container, and waits until every one is ready. Running services are left as they are.`,
		flags: {
			build: { type: 'boolean', help: 'rebuild the image first' },
			timeout: timeoutFlag(`seconds to wait for readiness (default ${defaultStartTimeoutSeconds}); exit 4 when exceeded`),
			wait: { type: 'boolean', default: true, help: 'return once everything is started, without waiting for readiness' },
		},
		positionals: 'any',
	}),
	'server stop': define({
		name: 'server stop',
		synopsis: '[SERVICE...] [--timeout S] [--volumes]',
		summary: 'stop all or named services',
		help: `
Stops all or the named services: SIGTERM to natives and \`docker stop\` to the container, then kills
what is still running after the timeout (default ${defaultStopTimeoutSeconds} s). The container is removed; its data stays in
the stigmer home, or on a remote engine in the home's volumes, which --volumes removes too.`,
		flags: {
			timeout: timeoutFlag(`seconds before what still runs is killed (default ${defaultStopTimeoutSeconds})`),
			volumes: { type: 'boolean', help: "also remove the agent-runner's volumes on a remote engine (workspace and data are lost)" },
		},
		positionals: 'any',
	}),
	'server restart': define({
		name: 'server restart',
		synopsis: '[SERVICE...] [--timeout S]',
		summary: 'restart all or named services',
		help: `
Stops, then starts all or the named services, and waits until they are ready.`,
		flags: { timeout: timeoutFlag(`seconds to wait for readiness (default ${defaultStartTimeoutSeconds})`) },
		positionals: 'any',
	}),
	'server status': define({
		name: 'server status',
		synopsis: '[--json]',
		summary: 'one row per service',
		help: `
One row per service: state, health, uptime, restarts, exit code, container id or pid, endpoint.
Exit 3 when the container engine is unreachable (the container's state is then unknown).`,
		flags: { json: jsonFlag('print the schema of docs/commands.md ("server status --json")') },
		positionals: 'none',
	}),
	'server logs': define({
		name: 'server logs',
		synopsis: '[SERVICE...] [-f] [-n N] [--since T] [--timestamps] [--json]',
		summary: 'merged logs of all or named services',
		help: `
Merged logs of all services (or the named ones), in time order.`,
		flags: {
			follow: { type: 'boolean', shortFlag: 'f', help: 'keep printing new lines (across restarts, recreates and log rotation)' },
			tail: { type: 'string', shortFlag: 'n', value: 'N', help: 'the last N lines of each service (default: all)' },
			since: { type: 'string', value: 'T', help: 'lines since a duration ago (30s, 10m, 2h, 1d) or an RFC 3339 time' },
			timestamps: { type: 'boolean', shortFlag: 't', help: "print each line's time (RFC 3339 UTC, nanoseconds)" },
			json: jsonFlag('one JSON object per line: {"service","stream","time","line"}'),
		},
		positionals: 'any',
	}),
	dashboard: define({
		name: 'dashboard',
		synopsis: '',
		summary: 'the live terminal dashboard',
		help: `
The live terminal dashboard: services with state, health, CPU, memory and history; their logs;
keys to start (s), stop (x), restart (r) and open a shell in the container (e). Press ? for all keys.`,
		flags: {},
		positionals: 'none',
	}),
	shell: define({
		name: 'shell',
		synopsis: '[-- CMD...]',
		summary: 'a shell (or CMD) in the agent-runner container',
		help: `
Opens a shell in the agent-runner container (bash, else sh), in /workspace. With CMD, runs it
instead and exits with its exit code. A TTY is allocated when stdin is one.`,
		flags: {},
		positionals: 'command',
	}),
	run: define({
		name: 'run',
		synopsis: 'AGENT_FILE PROMPT [--file PATH]... [--detach] [--json]',
		summary: 'run an agent and stream its events',
		help: `
Runs an agent in the agent-runner container and streams what it does.

AGENT_FILE is a YAML or JSON agent spec (name, instructions; optional model, tools, max_steps, network).
PROMPT is the input; - reads it from stdin.

Exit codes: 0 succeeded, 1 failed / cancelled / interrupted, 2 usage or spec error, 130 cancelled by Ctrl-C.
Ctrl-C cancels the execution; a second Ctrl-C stops waiting for the cancellation.`,
		flags: {
			file: { type: 'string', shortFlag: 'f', isMultiple: true, value: 'PATH', help: "upload a file into the execution's workspace (repeatable)" },
			detach: { type: 'boolean', shortFlag: 'd', help: 'print the execution id and return at once' },
			json: jsonFlag('one JSON object per event and line: {"execution","id","type","data"}'),
		},
		positionals: 'any',
	}),
	executions: define({
		name: 'executions',
		synopsis: '[list|show ID|cancel ID] [--json]',
		summary: 'list, inspect and cancel executions',
		help: `
List, inspect and cancel agent executions:
  stigmer executions [list] [--json] [--limit N]
  stigmer executions show ID [--json]
  stigmer executions cancel ID

list prints the newest first; --json prints the API's objects.`,
		flags: {
			json: jsonFlag("print the API's objects"),
			limit: { type: 'string', value: 'N', help: 'list at most N executions (1 to 1000, default 100)' },
		},
		positionals: 'any',
	}),
	doctor: define({
		name: 'doctor',
		synopsis: '[--json]',
		summary: 'check the setup and print the fix for each problem',
		help: `
Checks the container engine and its socket, permissions, disk space, ports, the image, the base
image, LLM reachability from inside the container and config.yaml, and prints the fix for each problem.
Exit 0 when nothing failed (warnings allowed), 1 otherwise.`,
		flags: { json: jsonFlag('one object: {"ok","checks":[{"name","status","detail","fix"}]}') },
		positionals: 'none',
	}),
	'image build': define({
		name: 'image build',
		synopsis: '',
		summary: 'build the agent-runner image',
		help: `
Builds the agent-runner image (agentRunner.image, default stigmer/agent-runner:<version>-<source hash>) from the
package's docker/ and agent-runner/ directories.`,
		flags: {},
		positionals: 'none',
	}),
} as const satisfies Record<string, CommandDefinition>;

export type CommandName = keyof typeof commandDefinitions;

/** What a command receives: its flags typed from its definition, and its positional arguments. */
export type ParsedFlags<F extends FlagDefinitions> = {
	[K in keyof F]: F[K]['isMultiple'] extends true ? string[] : F[K]['type'] extends 'boolean' ? (F[K]['default'] extends boolean ? boolean : boolean | undefined) : string | undefined;
};

export interface ParsedArgs<F extends FlagDefinitions> {
	flags: ParsedFlags<F>;
	/** the positional arguments; with `positionals: 'command'`, the command line (empty when none) */
	input: string[];
}

/** `stigmer --help`'s text, after the package's description (meow lays out both: helpPages.ts). */
export function helpText(): string {
	return `
  Usage
    $ stigmer <command> [options]

  Commands
${commandList()
	.split('\n')
	.map((line) => `  ${line}`)
	.join('\n')}

  Global options
    --home DIR     stigmer home (default $STIGMER_HOME, else ~/.stigmer)
    --no-color     no colour (also NO_COLOR)
    --help         help for stigmer or a command (stigmer server logs --help)
    --version      print the version

  Exit codes: 0 success, 1 failure, 2 usage error, 3 container engine unreachable, 4 timed out.
`;
}

/** The synopsis of every command, for `stigmer --help`. */
export function commandList(): string {
	const rows = Object.values(commandDefinitions).map((d) => [`${d.name}${d.synopsis ? ` ${d.synopsis}` : ''}`, d.summary] as const);
	const width = 51;
	return rows.map(([usage, summary]) => (usage.length < width ? `  ${usage.padEnd(width)}${summary}` : `  ${usage}\n  ${' '.repeat(width)}${summary}`)).join('\n');
}

/** The help text of one command (its usage line, text and options), which meow lays out as its page. */
export function commandHelp(definition: CommandDefinition): string {
	const options = Object.entries(definition.flags)
		.filter(([, flag]) => flag.help)
		.map(([key, flag]) => {
			const long = flag.type === 'boolean' && flag.default === true ? `--no-${kebab(key)}` : `--${kebab(key)}`;
			return [`${flag.shortFlag ? `-${flag.shortFlag}, ` : ''}${long}${flag.value ? ` ${flag.value}` : ''}`, flag.help!] as const;
		});
	options.push(['-h, --help', 'this help']);
	const width = Math.max(...options.map(([left]) => left.length)) + 2;
	return [
		`Usage: stigmer ${definition.name}${definition.synopsis ? ` ${definition.synopsis}` : ''}`,
		definition.help.replace(/^\n+/, '\n'),
		'',
		'Options',
		...options.map(([left, text]) => `  ${left.padEnd(width)}${text}`),
	].join('\n');
}

export function kebab(key: string): string {
	return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
