// The two parts of Ink the dashboard reaches beyond Ink's index (which is all Ink exports): its per-frame
// Output class (inkFrameCache) and the chalk instance it colours with (inkColor). Both are loaded from
// beside Ink's own files, as Ink itself imports them, so they are the very instances Ink uses. The
// dashboard's bundle (scripts/bundleDashboard.mjs) replaces this module with static imports of the
// same two files, so the bundle reaches the Ink it contains, not a second copy in node_modules.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/** ink/build/output.js */
export function inkOutputModule(): Promise<{ default: unknown }> {
	return import(new URL('output.js', import.meta.resolve('ink')).href);
}

/** the chalk Ink imports */
export function inkChalkModule(): Promise<{ default: unknown }> {
	const require = createRequire(import.meta.resolve('ink'));
	return import(pathToFileURL(require.resolve('chalk')).href);
}
