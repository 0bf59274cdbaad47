// YAML files written by users (config.yaml), parsed so that every problem can be reported with its line,
// in time linear in the file's size. The yaml package's own duplicate-key check (`uniqueKeys`) compares
// every key of a mapping with every other: O(n²), 6.9 s for 32k keys and a hang past 120 s for a 10 MB
// file (issue 10). It is off here; duplicates are found with one hash set per mapping instead.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import type { Document, LineCounter, Node } from 'yaml';

// yaml is loaded only by commands that have a YAML file to parse. The package is 72 files, and loading
// them one by one cost most of its ≈30 ms: the built CLI loads the one-file bundle the build makes of the
// installed package (scripts/postbuild.mjs), ≈5 ms. Run from sources (the tests), the package itself.
const require = createRequire(import.meta.url);
const bundled = new URL('../vendor/yaml.cjs', import.meta.url);
let yamlModule: typeof Yaml | undefined;
export const yaml = (): typeof Yaml => (yamlModule ??= require(existsSync(bundled) ? '../vendor/yaml.cjs' : 'yaml') as typeof Yaml);

/** One problem at a place in the file: `line` (1-based) when known, `key` a dotted path like `agentRunner.port`. */
export interface YamlProblem {
	line: number | undefined;
	key: string;
	problem: string;
}

export interface ParsedYaml {
	doc: Document.Parsed;
	lines: LineCounter;
	/** syntax errors (then the document is not worth validating) */
	syntax: YamlProblem[];
	/** keys given twice in one mapping, each with the line of the first */
	duplicates: YamlProblem[];
}

/** Parses `text`; never throws for bad input (a document nested too deeply is a syntax problem). */
export function parseYaml(text: string): ParsedYaml {
	const y = yaml();
	const lines = new y.LineCounter();
	let doc: Document.Parsed;
	try {
		doc = y.parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
	} catch (error) {
		if (!(error instanceof RangeError)) throw error;
		return { doc: new y.Document() as Document.Parsed, lines, syntax: [{ line: undefined, key: '(syntax)', problem: 'the document is nested too deeply' }], duplicates: [] };
	}
	const syntax = doc.errors.map((error) => ({
		line: error.linePos?.[0]?.line ?? (error.pos?.[0] === undefined ? undefined : lines.linePos(error.pos[0]).line),
		key: '(syntax)',
		problem: error.message.includes('Maximum call stack') ? 'the document is nested too deeply' : (error.message.split('\n')[0] ?? 'invalid YAML'),
	}));
	return { doc, lines, syntax, duplicates: syntax.length > 0 ? [] : duplicateKeys(doc, lines) };
}

/** Every key that appears twice in one mapping (scalar keys compared by value), walking without recursion. */
function duplicateKeys(doc: Document.Parsed, lines: LineCounter): YamlProblem[] {
	const y = yaml();
	const problems: YamlProblem[] = [];
	const lineOf = (node: Node) => (node.range ? lines.linePos(node.range[0]).line : undefined);
	const stack: Array<[unknown, string]> = [[doc.contents, '']];
	while (stack.length > 0) {
		const [node, path] = stack.pop()!;
		if (y.isMap(node)) {
			const seen = new Map<unknown, Node>();
			for (const pair of node.items) {
				const key = pair.key;
				const name = y.isScalar(key) ? String(key.value) : '?';
				const where = path ? `${path}.${name}` : name;
				if (y.isScalar(key)) {
					const first = seen.get(key.value);
					if (first) problems.push({ line: lineOf(key), key: where, problem: `given twice (first on line ${lineOf(first) ?? '?'})` });
					else seen.set(key.value, key);
				}
				if (pair.value) stack.push([pair.value, where]);
			}
		} else if (y.isSeq(node)) {
			node.items.forEach((item, i) => {
				stack.push([item, `${path}[${i}]`]);
			});
		}
	}
	return problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
}
