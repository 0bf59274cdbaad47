// `npm pack` / `npm publish` ship dist/ (built by prepack) and a package.json without `prepare`:
// npm warns about a global install of a package that has install scripts, and a tarball needs none.
// In a checkout `prepare` stays: `npm install` builds dist/ there.
//   node scripts/pack-manifest.mjs strip     (prepack: package.json without scripts.prepare, original kept aside)
//   node scripts/pack-manifest.mjs restore   (postpack, and strip's first step: the original back)
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

const manifest = new URL('../package.json', import.meta.url);
const kept = new URL('../package.json.packing', import.meta.url);

// a pack that failed between strip and restore left the original aside: it wins
if (existsSync(kept)) renameSync(kept, manifest);
if (process.argv[2] === 'strip') {
	const text = readFileSync(manifest, 'utf8');
	const json = JSON.parse(text);
	delete json.scripts.prepare;
	writeFileSync(kept, text);
	writeFileSync(manifest, `${JSON.stringify(json, null, 2)}\n`);
} else if (process.argv[2] !== 'restore') {
	console.error('usage: node scripts/pack-manifest.mjs strip|restore');
	process.exit(2);
}
