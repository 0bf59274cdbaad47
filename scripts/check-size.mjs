#!/usr/bin/env node
// The size rule of CONTRIBUTING.md ("Lint and format"), checked by `npm run lint`: no file of source/ (tests
// excepted) is longer than 350 lines unless its opening comment says why, in a paragraph that starts
// `Over 350 lines:`. A long file usually does several jobs; split it by concern, or, where a split would
// make it worse (one state machine, one table), write the reason where the next reader starts.
//
//   node scripts/check-size.mjs [root]     (root: the repository, default: this script's)
//
// Prints each file as `source/x/y.ts: 412 lines (over 350, and no "Over 350 lines:" reason at its top)`
// and exits 1.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sourceFiles } from './check-layers.mjs';

export const maxLines = 350;
export const reasonMarker = 'Over 350 lines:';

/** The file's opening comment: its `//` lines (and a leading `/* … *\/` block) before the first code. */
export function openingComment(text) {
	const lines = text.split('\n');
	const out = [];
	let inBlock = false;
	for (const line of lines) {
		const t = line.trim();
		if (inBlock) {
			out.push(t);
			if (t.includes('*/')) inBlock = false;
			continue;
		}
		if (t.startsWith('//')) out.push(t);
		else if (t.startsWith('/*')) {
			out.push(t);
			inBlock = !t.includes('*/');
		} else if (t === '' && out.length === 0) continue;
		else if (t.startsWith('#!')) continue;
		else break;
	}
	return out.join('\n');
}

/** The line count the rule reads: lines of text, a final newline not counting as one more. */
export function lineCount(text) {
	if (text === '') return 0;
	return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

export function checkSize(root) {
	const sourceDir = path.join(root, 'source');
	const problems = [];
	for (const file of sourceFiles(sourceDir)) {
		const text = readFileSync(file, 'utf8');
		const lines = lineCount(text);
		if (lines <= maxLines || openingComment(text).includes(reasonMarker)) continue;
		const rel = path.relative(root, file).split(path.sep).join('/');
		problems.push(`${rel}: ${lines} lines (over ${maxLines}, and no "${reasonMarker}" reason at its top)`);
	}
	return problems;
}

function main() {
	const root = path.resolve(process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..'));
	const problems = checkSize(root);
	for (const problem of problems) console.error(problem);
	if (problems.length > 0) {
		console.error(
			`size: ${problems.length} files of source/ over ${maxLines} lines without a reason: split each by concern, or say why not in a paragraph starting "${reasonMarker}" in its opening comment (CONTRIBUTING.md, "Lint and format")`,
		);
		process.exit(1);
	}
	console.log(`size: every file of source/ is at most ${maxLines} lines, or says at its top why it is longer`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
