// The commands scripts run most (`server status --json`, `server stop`, `doctor --json`) give no value,
// no short flag and no positional: only the command's own boolean flags, each spelled `--name` once.
// Their meaning needs no parser, and meow costs ≈30 ms of start-up to load (its bundle evaluates
// normalize-package-data's licence tables on import: docs/architecture.md, "Start-up"). This answers those
// argvs the way meow does (plainFlags.test.ts checks it against meow for every command and every
// such argv); anything else returns null and goes to meow (commands/parseCommand.ts), which stays the one
// parser and the one layout of the help pages (helpPages.ts).
import { type CommandDefinition, type FlagDefinitions, type ParsedArgs, type ParsedFlags, kebab } from './definitions.js';

/** The parse of an argv made only of the definition's boolean flags (`--json`, `--build`), else null. */
export function parsePlainFlags<F extends FlagDefinitions>(definition: CommandDefinition<F>, argv: string[]): ({ help: null } & ParsedArgs<F>) | null {
	const byName = new Map(Object.entries(definition.flags).map(([key, flag]) => [`--${kebab(key)}`, { key, flag }]));
	const flags: Record<string, boolean | string[]> = {};
	for (const [key, flag] of Object.entries(definition.flags)) {
		if (flag.isMultiple) flags[key] = [];
		else if (flag.type === 'boolean' && flag.default !== undefined) flags[key] = flag.default;
	}
	const given = new Set<string>();
	for (const arg of argv) {
		const known = byName.get(arg);
		if (known?.flag.type !== 'boolean' || known.flag.isMultiple || given.has(arg)) return null;
		given.add(arg);
		flags[known.key] = true;
	}
	return { help: null, flags: flags as ParsedFlags<F>, input: [] };
}
