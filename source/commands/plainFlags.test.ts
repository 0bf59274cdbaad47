import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commandDefinitions, kebab } from './definitions.ts';
import { parseCommand } from './parseCommand.ts';
import { parsePlainFlags } from './plainFlags.ts';

/** Every subset of a list, each in the given order and reversed. */
function subsets(items: string[]): string[][] {
	const out: string[][] = [];
	for (let mask = 0; mask < 1 << items.length; mask++) {
		const picked = items.filter((_, i) => mask & (1 << i));
		out.push(picked, [...picked].reverse());
	}
	return out;
}

test('an argv of plain boolean flags parses as meow parses it, for every command and every such argv', () => {
	let compared = 0;
	for (const definition of Object.values(commandDefinitions)) {
		const booleans = Object.entries(definition.flags)
			.filter(([, flag]) => flag.type === 'boolean' && !('isMultiple' in flag && flag.isMultiple))
			.map(([key]) => `--${kebab(key)}`);
		for (const argv of subsets(booleans)) {
			const plain = parsePlainFlags(definition, argv);
			assert.ok(plain, `stigmer ${definition.name} ${argv.join(' ')} is plain`);
			assert.deepStrictEqual(plain, parseCommand(definition, argv), `stigmer ${definition.name} ${argv.join(' ')}`);
			compared++;
		}
	}
	assert.ok(compared >= 20, `${compared} argvs compared`);
});

test('anything else is left to meow: values, short flags, negations, repeats, positionals, help, unknown flags', () => {
	const cases: Array<[keyof typeof commandDefinitions, string[]]> = [
		['server status', ['--json=true']],
		['server status', ['--help']],
		['server status', ['-h']],
		['server status', ['--json', '--json']],
		['server status', ['--jsn']],
		['server status', ['extra']],
		['server start', ['--no-wait']],
		['server start', ['--timeout', '3']],
		['server start', ['api']],
		['server logs', ['-f']],
		['run', ['agent.yaml', 'hi']],
		['run', ['--file']],
		['shell', ['--']],
		['doctor', ['--']],
	];
	for (const [name, argv] of cases) assert.equal(parsePlainFlags(commandDefinitions[name], argv), null, `stigmer ${name} ${argv.join(' ')}`);
});
