// NO_COLOR and --no-color for the dashboard. Ink colours text with chalk, and chalk decides for
// itself at load time from the terminal and `--no-color` in argv only (not NO_COLOR, which the README
// and `stigmer --help` promise). The CLI's own choice (CommandContext.color) is applied to the very
// chalk instance Ink loads (inkPrivate.ts).
import { inkChalkModule } from './inkPrivate.js';

interface Chalk {
	level: number;
}

/** The chalk module instance Ink draws with. */
export async function inkChalk(): Promise<Chalk> {
	return (await inkChalkModule()).default as Chalk;
}

/** With `color` false, Ink writes no colour or text attribute at all. */
export async function applyColorChoice(color: boolean): Promise<void> {
	if (!color) (await inkChalk()).level = 0;
}
