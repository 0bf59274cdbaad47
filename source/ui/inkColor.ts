// NO_COLOR and --no-color for the dashboard. Ink colours text with chalk, and chalk decides for
// itself at load time from the terminal and `--no-color` in argv only (not NO_COLOR, which the README
// and `stigmer --help` promise). The CLI's own choice (CommandContext.color) is applied to the very
// chalk instance Ink loads: resolved from Ink's location, as Ink's own import resolves it.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

interface Chalk {
	level: number;
}

/** The chalk module instance Ink draws with. */
export async function inkChalk(): Promise<Chalk> {
	const require = createRequire(import.meta.resolve('ink'));
	const { default: chalk } = (await import(pathToFileURL(require.resolve('chalk')).href)) as { default: Chalk };
	return chalk;
}

/** With `color` false, Ink writes no colour or text attribute at all. */
export async function applyColorChoice(color: boolean): Promise<void> {
	if (!color) (await inkChalk()).level = 0;
}
