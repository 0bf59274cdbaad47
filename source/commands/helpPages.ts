// Every help page (`stigmer --help` and each command's `--help`), as meow lays it out: meow is the one
// owner of the layout. The build renders the pages with meow (scripts/postbuild.mjs calls
// renderHelpPages in parseCommand.ts) into dist/help-pages.json, and `--help` prints that text without
// loading meow, which costs ≈30 ms of start-up (its bundle evaluates normalize-package-data's licence
// tables on import). Run from sources (the tests), where no build made the file, meow renders the page
// now. cli.test.ts checks the shipped pages against what meow renders.
import { readFileSync } from 'node:fs';
import type { CommandName } from './definitions.js';

/** `stigmer` for the top-level page, else the command's words */
export type HelpPageName = 'stigmer' | CommandName;
export type HelpPages = Record<HelpPageName, string>;

/** Where the build writes the pages: dist/help-pages.json beside dist/cli.js. */
export const helpPagesFile = new URL('../help-pages.json', import.meta.url);

/** The page as the build rendered it, else (run from sources) as meow renders it now. */
export async function helpPage(name: HelpPageName): Promise<string> {
	const shipped = readShippedPages()?.[name];
	if (typeof shipped === 'string') return shipped;
	const { renderHelpPage } = await import('./parseCommand.js');
	return renderHelpPage(name);
}

export function readShippedPages(): Partial<HelpPages> | null {
	try {
		return JSON.parse(readFileSync(helpPagesFile, 'utf8')) as Partial<HelpPages>;
	} catch {
		return null; // not built (sources): meow renders the page
	}
}
