// meow parses a command's argv against its definition (definitions.ts) and lays out the help pages
// (renderHelpPages: the build ships them as text, helpPages.ts).
// Usage errors are UsageErrors (exit 2) that name the command and point at its --help; meow's own
// exits (process.exit on unknown flags) are never reached: unknown flags are checked here first.
import meow from 'meow';
import { UsageError } from '../errors.js';
import { packageDescription } from '../version.js';
import { type CommandDefinition, type FlagDefinitions, type ParsedArgs, type ParsedFlags, commandDefinitions, commandHelp, helpText, kebab } from './definitions.js';
import type { HelpPageName, HelpPages } from './helpPages.js';

type MeowFlags = NonNullable<Parameters<typeof meow>[0]['flags']>;

export type ParseResult<F extends FlagDefinitions> = { help: string } | ({ help: null } & ParsedArgs<F>);

/** Parses `argv` (the arguments after the command words); `help` is set when --help / -h was given. */
export function parseCommand<F extends FlagDefinitions>(definition: CommandDefinition<F>, argv: string[]): ParseResult<F> {
	const usage = (message: string) => new UsageError(`${definition.name}: ${message}`, `see \`stigmer ${definition.name} --help\``);
	// flags are checked before `--` (and before the command line of `positionals: 'command'`)
	let own = argv;
	let commandLine: string[] = [];
	if (definition.positionals === 'command') {
		const at = argv.findIndex((arg) => arg === '--' || !arg.startsWith('-'));
		if (at !== -1) {
			own = argv.slice(0, at);
			commandLine = argv[at] === '--' ? argv.slice(at + 1) : argv.slice(at);
		}
	} else {
		const separator = argv.indexOf('--');
		if (separator !== -1) own = argv.slice(0, separator);
	}
	const unknown = unknownOptions(definition.flags, own);
	if (unknown) throw usage(`Unknown option '${unknown}'`);

	const flags: Record<string, { type: 'boolean' | 'string'; shortFlag?: string; isMultiple?: boolean; default?: boolean }> = { help: { type: 'boolean', shortFlag: 'h' } };
	for (const [key, flag] of Object.entries(definition.flags)) {
		flags[key] = {
			type: flag.type,
			...(flag.shortFlag ? { shortFlag: flag.shortFlag } : {}),
			...(flag.isMultiple ? { isMultiple: true } : {}),
			...(flag.default !== undefined ? { default: flag.default } : {}),
		};
	}
	let cli: ReturnType<typeof meow>;
	const title = keepProcessTitle();
	try {
		cli = meow(commandHelp(definition), {
			importMeta: import.meta,
			argv: definition.positionals === 'command' ? own : argv,
			flags: flags as MeowFlags,
			description: false,
			autoHelp: false,
			autoVersion: false,
			booleanDefault: undefined,
			pkg: {},
		});
	} catch (error) {
		// meow's own checks, e.g. a flag given twice that takes one value
		throw usage((error as Error).message.replace(/\.$/, ''));
	} finally {
		title.restore();
	}
	if (cli.flags.help === true) return { help: cli.help };
	const input = definition.positionals === 'command' ? commandLine : cli.input.map(String);
	if (definition.positionals === 'none' && input.length > 0) throw usage(`Unexpected argument '${input[0]}'. This command does not take positional arguments`);
	const { help: _help, ...rest } = cli.flags;
	return { help: null, flags: rest as ParsedFlags<F>, input };
}

/** One help page as meow lays it out: the package's description first on the top-level page only. */
export function renderHelpPage(name: HelpPageName): string {
	const [text, description] = name === 'stigmer' ? [helpText(), packageDescription] : [commandHelp(commandDefinitions[name]), false as const];
	const title = keepProcessTitle();
	try {
		return meow(text, { importMeta: import.meta, argv: [], pkg: {}, description, autoHelp: false, autoVersion: false }).help;
	} finally {
		title.restore();
	}
}

/** Every help page, as the build ships them (scripts/postbuild.mjs writes dist/help-pages.json). */
export function renderHelpPages(): HelpPages {
	const names: HelpPageName[] = ['stigmer', ...(Object.keys(commandDefinitions) as Array<keyof typeof commandDefinitions>)];
	return Object.fromEntries(names.map((name) => [name, renderHelpPage(name)])) as HelpPages;
}

/** The first option in `argv` that the definition does not know (before any `--`), or null. */
function unknownOptions(definitions: FlagDefinitions, argv: string[]): string | null {
	const long = new Set(['help']);
	const short = new Map<string, 'boolean' | 'string'>([['h', 'boolean']]);
	const negatable = new Set<string>();
	for (const [key, flag] of Object.entries(definitions)) {
		long.add(kebab(key));
		if (flag.shortFlag) short.set(flag.shortFlag, flag.type);
		if (flag.type === 'boolean') negatable.add(kebab(key));
	}
	const takesValue = (name: string) => Object.entries(definitions).some(([key, flag]) => kebab(key) === name && flag.type === 'string');
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i]!;
		if (arg === '--') break;
		if (arg.startsWith('--')) {
			const name = arg.slice(2).split('=')[0]!;
			if (!long.has(name) && !(name.startsWith('no-') && negatable.has(name.slice(3)))) return `--${name}`;
			if (!arg.includes('=') && takesValue(name)) i++;
		} else if (arg.startsWith('-') && arg.length > 1 && !/^-\d/.test(arg)) {
			for (const [n, ch] of [...arg.slice(1)].entries()) {
				const type = short.get(ch);
				if (!type) return `-${ch}`;
				// a short option that takes a value takes the rest of the word, or the next one
				if (type === 'string') {
					if (n === arg.length - 2) i++;
					break;
				}
			}
		}
	}
	return null;
}

/**
 * meow sets `process.title` from the package (to '' without one). Node writes a title over the process's
 * argument memory and its name, so `ps` and /proc/PID/cmdline would show a blank process where
 * `node …/stigmer dashboard` (with the dashboard's V8 flags) was: the title is shielded while meow runs.
 */
function keepProcessTitle(): { restore: () => void } {
	const original = Object.getOwnPropertyDescriptor(process, 'title');
	if (!original?.configurable) return { restore: () => {} };
	let shown = process.title;
	Object.defineProperty(process, 'title', {
		configurable: true,
		enumerable: original.enumerable ?? true,
		get: () => shown,
		set: (value: string) => {
			shown = value;
		},
	});
	return { restore: () => Object.defineProperty(process, 'title', original) };
}
