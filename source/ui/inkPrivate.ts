// The parts of Ink the dashboard reaches beyond Ink's index (which is all Ink exports): its per-frame
// Output class (inkFrameCache, inkOutput), the ANSI tokenizer it draws with (inkOutput) and the chalk
// instance it colours with (inkColor). All are loaded from
// beside Ink's own files, as Ink itself imports them, so they are the very instances Ink uses. The
// dashboard's bundle (scripts/bundleDashboard.mjs) replaces this module with static imports of the
// same files, so the bundle reaches the Ink it contains, not a second copy in node_modules.
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** ink/build/output.js */
export function inkOutputModule(): Promise<{ default: unknown }> {
	return import(new URL('output.js', import.meta.resolve('ink')).href);
}

/** the @alcalzone/ansi-tokenize Ink imports */
export function inkAnsiTokenizeModule(): Promise<Record<string, unknown>> {
	return import(pathToFileURL(ansiTokenizeEntry(createRequire(import.meta.resolve('ink')))).href);
}

/** The package exports only for `import`, which require.resolve does not match: its entry, by its package.json. */
function ansiTokenizeEntry(require: NodeJS.Require): string {
	const manifest = require.resolve('@alcalzone/ansi-tokenize/package.json');
	const entry = (require(manifest) as { exports?: { '.'?: { import?: string } } }).exports?.['.']?.import ?? './build/index.js';
	return path.join(path.dirname(manifest), entry);
}

/** the chalk Ink imports */
export function inkChalkModule(): Promise<{ default: unknown }> {
	const require = createRequire(import.meta.resolve('ink'));
	return import(pathToFileURL(require.resolve('chalk')).href);
}
