#!/usr/bin/env node
// The layer rule of docs/architecture.md ("Layers in `source/`"), checked by `npm run lint`: every
// relative import (`import … from`, `export … from`, `import '…'`, `import('…')`) of source/**/*.ts(x),
// tests excepted, goes from a folder to a folder below it. No dependency: the imports are read with
// regular expressions, which is enough for this tree's one-statement-per-line style.
//
//   node scripts/check-layers.mjs [root]     (root: the repository, default: this script's)
//
// Prints each violation as `source/a/x.ts imports source/b/y.ts (a may not import b: <rule>)` and exits
// 1. There are no exceptions: what both sides need moves to where both may import it.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The rule as data, top first: a unit (a folder of source/, or a file at its root) may import the units
 * of the ranks below its own, never those of its own rank or above. Units of one rank are siblings:
 * neither imports the other, so "A imports B and B imports A" cannot pass.
 */
export const layers = [
	{ layer: 'entry', ranks: [['sea/'], ['cli.ts'], ['runCli.ts'], ['main.ts'], ['commands/']] },
	{ layer: 'UI', ranks: [['ui/']] },
	{ layer: 'dashboard wiring', ranks: [['dashboard/']] },
	{ layer: 'store', ranks: [['store/']] },
	{
		layer: 'engine and processes',
		ranks: [['stack/'], ['agentRunner/'], ['logs/', 'supervisor/'], ['engine/', 'agents/'], ['api/'], ['config/'], ['home/'], ['platform/', 'terminal/']],
	},
	{
		layer: 'shared',
		ranks: [
			['errors.ts', 'buildContext.ts'],
			['contract.ts', 'version.ts', 'compileCache.ts', 'serviceStatus.ts', 'lazyBuiltins.ts'],
		],
	},
];

/** Further rules: `from` may import only types (`import type`) from `to`. */
export const typesOnly = [
	{
		from: 'ui/',
		// terminal/ is text (width, sanitising), not the engine
		to: layers
			.find((l) => l.layer === 'engine and processes')
			.ranks.flat()
			.filter((unit) => unit !== 'terminal/'),
		rule: 'the UI reads the store and never calls the engine: it imports only types from the engine and processes layer (terminal/ excepted)',
	},
];

const rankOf = new Map();
const layerOf = new Map();
{
	let rank = 0;
	for (const { layer, ranks } of layers) {
		for (const units of ranks) {
			for (const unit of units) {
				rankOf.set(unit, rank);
				layerOf.set(unit, layer);
			}
			rank++;
		}
	}
}

const name = (unit) => unit.replace(/\/$/, '');

/** Why `from` may not import `to` (types only when `typeOnly`), or null when it may. */
export function forbidden(from, to, typeOnly) {
	if (from === to) return null;
	const a = rankOf.get(from);
	const b = rankOf.get(to);
	if (a === b) return `${name(from)} and ${name(to)} are siblings in ${layerOf.get(from)}; neither imports the other`;
	if (a < b) {
		if (typeOnly) return null;
		const extra = typesOnly.find((r) => r.from === from && r.to.includes(to));
		return extra ? extra.rule : null;
	}
	return layerOf.get(from) === layerOf.get(to)
		? `${name(to)} is above ${name(from)} in ${layerOf.get(from)}; nothing imports from above`
		: `${layerOf.get(to)} is above ${layerOf.get(from)}; nothing imports from above`;
}

/** The .ts and .tsx files below `dir`, tests and declarations excepted (scripts/check-size.mjs reads the same). */
export function sourceFiles(dir) {
	const out = [];
	for (const entry of readdirSync(dir).sort()) {
		const full = path.join(dir, entry);
		if (statSync(full).isDirectory()) out.push(...sourceFiles(full));
		else if (/\.tsx?$/.test(entry) && !/\.test\.tsx?$/.test(entry) && !entry.endsWith('.d.ts')) out.push(full);
	}
	return out;
}

const staticImport = /^[ \t]*(import|export)\b([^'"`;]*?)\bfrom\s*['"]([^'"]+)['"]/gm;
const bareImport = /^[ \t]*import\s*['"]([^'"]+)['"]/gm;
const dynamicImport = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The relative imports of one file: `{ spec, typeOnly }`. */
export function importsOf(text) {
	const found = [];
	for (const m of text.matchAll(staticImport)) {
		const clause = m[2].trim();
		// `import type {…}`, `export type {…}`, or braces whose every name is `type X`
		let typeOnly = /^type\b/.test(clause);
		const braces = /^\{([\s\S]*)\}$/.exec(clause);
		if (!typeOnly && braces) {
			const names = braces[1]
				.split(',')
				.map((s) => s.trim())
				.filter(Boolean);
			typeOnly = names.length > 0 && names.every((s) => /^type\s/.test(s));
		}
		found.push({ spec: m[3], typeOnly });
	}
	for (const m of text.matchAll(bareImport)) found.push({ spec: m[1], typeOnly: false });
	for (const m of text.matchAll(dynamicImport)) {
		const line = text.slice(text.lastIndexOf('\n', m.index) + 1, m.index);
		if (!/^\s*(\/\/|\*|\/\*)/.test(line)) found.push({ spec: m[1], typeOnly: false });
	}
	return found.filter((i) => i.spec.startsWith('.'));
}

/** `engine/` for source/engine/x.ts, `contract.ts` for source/contract.ts */
function unitOf(sourceDir, file) {
	const parts = path.relative(sourceDir, file).split(path.sep);
	return parts.length === 1 ? parts[0] : `${parts[0]}/`;
}

/** The file an import names: `./x.js` is `x.ts` or `x.tsx` */
function resolve(from, spec) {
	const target = path.resolve(path.dirname(from), spec);
	for (const candidate of [target, target.replace(/\.js$/, '.ts'), target.replace(/\.js$/, '.tsx'), `${target}.ts`, `${target}/index.ts`]) {
		if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
	}
	return target.replace(/\.js$/, '.ts');
}

export function checkLayers(root) {
	const sourceDir = path.join(root, 'source');
	const problems = [];
	const violations = [];
	const seen = new Set();
	const rel = (file) => path.relative(root, file).split(path.sep).join('/');
	for (const file of sourceFiles(sourceDir)) {
		const from = unitOf(sourceDir, file);
		if (!rankOf.has(from)) {
			const problem = `source/${from} is in no layer: add it to the table of docs/architecture.md ("Layers in \`source/\`") and to scripts/check-layers.mjs`;
			if (!problems.includes(problem)) problems.push(problem);
			continue;
		}
		for (const { spec, typeOnly } of importsOf(readFileSync(file, 'utf8'))) {
			const target = resolve(file, spec);
			if (!target.startsWith(sourceDir + path.sep)) continue;
			const to = unitOf(sourceDir, target);
			if (!rankOf.has(to)) continue; // reported as the importing side of its own files
			const rule = forbidden(from, to, typeOnly);
			if (rule === null) continue;
			const pair = `${rel(file)} -> ${rel(target)}`;
			if (seen.has(pair)) continue;
			seen.add(pair);
			violations.push({ message: `${rel(file)} imports ${rel(target)} (${name(from)} may not import ${name(to)}: ${rule})` });
		}
	}
	return { problems, violations };
}

function main() {
	const root = path.resolve(process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..'));
	const { problems, violations } = checkLayers(root);
	for (const problem of problems) console.error(problem);
	for (const v of violations) console.error(v.message);
	const failed = problems.length + violations.length;
	if (failed > 0) {
		console.error(`layers: ${violations.length} imports against docs/architecture.md ("Layers in \`source/\`"); move what both sides need to where both may import it`);
		process.exit(1);
	}
	console.log('layers: every import of source/ goes down (docs/architecture.md, "Layers in `source/`")');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
